// The worker's settings, read from wrangler vars and secrets on every invocation and checked with
// effect's Config and Schema. A missing or invalid setting is named (never its value, and never a
// secret) and only the parts that need it stop: the admin API and the cron tick report it.
import { Config, ConfigError, ConfigProvider, Effect, Either, Redacted, Schema } from "effect"
import { endpointConfig } from "../adapters/marketo/MarketoConfig.js"
import { type AudienceKeyPatterns, parseAudienceKeys } from "./AudienceKeys.js"
import { defaults } from "./Defaults.js"
import { type LeadFieldSettings, readLeadFieldSettings } from "./LeadFieldSettings.js"

/**
 * The settings as plain strings, whichever runtime holds them: wrangler vars and secrets on
 * Cloudflare, the process environment on Deno.
 */
export interface SettingsEnv {
  readonly MARKETO_ENDPOINT?: string
  readonly MARKETO_CLIENT_ID?: string
  readonly MARKETO_CLIENT_SECRET?: string
  readonly MARKETO_FOLDER?: string
  readonly MARKETO_CALLS_PER_20S?: string
  readonly MARKETO_MAX_CONCURRENCY?: string
  readonly MARKETO_DAILY_QUOTA?: string
  readonly MARKETO_DAILY_RESERVE?: string
  readonly SYNC_LATENCY_TARGET_MINUTES?: string
  readonly INGEST_TOKEN?: string
  readonly INGEST_SECRET?: string
  readonly ADMIN_TOKEN?: string
  readonly MARKETO_INSTANCE_URL?: string
  /** What DELETE /admin/audiences/:key does to the list by default: "keep" (default) or "empty". */
  readonly AUDIENCE_REMOVAL?: string
  readonly MAX_AUDIENCES?: string
  /** Comma-separated audience keys and `prefix*` patterns ingest accepts; all when unset. */
  readonly AUDIENCE_KEYS?: string
  /** Optional (wrangler.toml leaves it out): the lead partition new leads go to. */
  readonly MARKETO_PARTITION?: string
}

export interface MarketoSettings {
  readonly endpoint: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  readonly folder: string
  readonly callsPer20s: number
  readonly maxConcurrency: number
  readonly dailyQuota: number
  readonly dailyReserve: number
  /** How long a change may wait for its list before the scheduler syncs it whatever the pacing. */
  readonly latencyTargetMinutes: number
  /** Traits as Marketo lead fields, when changes are sent, and the lead partition (workers/LeadFieldSettings.ts). */
  readonly leadFields: LeadFieldSettings
}

export { defaults } from "./Defaults.js"

/** Env values as a ConfigProvider; blank values count as not set. Bindings (KV, DO) are skipped. */
const providerOf = (env: SettingsEnv) =>
  ConfigProvider.fromMap(
    new Map(Object.entries(env).flatMap(([k, v]) => (typeof v === "string" && v.trim() !== "" ? [[k, v.trim()] as const] : [])))
  )

const wholeNumber = (min: number, max: number, why = "") =>
  Schema.NumberFromString.pipe(Schema.int(), Schema.between(min, max)).annotations({
    message: () => ({ message: `must be a whole number from ${min} to ${max}${why}`, override: true })
  })

const hints: Record<string, string> = {
  MARKETO_ENDPOINT: "Admin → Web Services → REST API endpoint",
  MARKETO_CLIENT_ID: "the LaunchPoint service's Client Id",
  MARKETO_CLIENT_SECRET: "wrangler secret put MARKETO_CLIENT_SECRET"
}

/** The first message of a ConfigError, prefixed by the setting's name. No value is ever part of it. */
const describe = (name: string, error: ConfigError.ConfigError): string => {
  if (ConfigError.isMissingDataOnly(error)) return `${name} is not set${hints[name] === undefined ? "" : ` (${hints[name]})`}`
  const messages: Array<string> = []
  const walk = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        walk(e.left)
        walk(e.right)
        break
      case "InvalidData":
      case "SourceUnavailable":
      case "Unsupported":
        messages.push(e.message)
        break
      case "MissingData":
        break
    }
  }
  walk(error)
  const message = messages[0] ?? "is invalid"
  // The endpoint's own messages already start with its name.
  return message.startsWith(name) ? message : `${name} ${message}`
}

/** Reads each setting on its own, so that every problem is listed, not only the first. */
const reader = (env: SettingsEnv, problems: Array<string>) => {
  const provider = providerOf(env)
  return <A>(name: string, config: Config.Config<A>): A | undefined =>
    Either.match(Effect.runSync(Effect.either(Effect.withConfigProvider(config, provider))), {
      onLeft: (error) => {
        problems.push(describe(name, error))
        return undefined
      },
      onRight: (value) => value
    })
}

/** The Marketo side: what a sync tick needs. Every problem is listed, by setting name. */
export const marketoSettings = (env: SettingsEnv): Either.Either<MarketoSettings, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  const read = reader(env, problems)
  const endpoint = read("MARKETO_ENDPOINT", endpointConfig)
  const clientId = read("MARKETO_CLIENT_ID", Config.string("MARKETO_CLIENT_ID"))
  const clientSecret = read("MARKETO_CLIENT_SECRET", Config.redacted("MARKETO_CLIENT_SECRET"))
  const folder = read("MARKETO_FOLDER", Config.withDefault(Schema.Config("MARKETO_FOLDER", Schema.String.pipe(Schema.maxLength(255)).annotations({
    message: () => ({ message: "must be at most 255 characters (a Marketo folder name)", override: true })
  })), defaults.folder))
  const callsPer20s = read("MARKETO_CALLS_PER_20S", Config.withDefault(
    Schema.Config("MARKETO_CALLS_PER_20S", wholeNumber(1, 100, " (Marketo allows 100 per instance, shared by every integration)")),
    defaults.callsPer20s
  ))
  const maxConcurrency = read("MARKETO_MAX_CONCURRENCY", Config.withDefault(
    Schema.Config("MARKETO_MAX_CONCURRENCY", wholeNumber(1, 10, " (Marketo allows 10 concurrent calls per instance)")),
    defaults.maxConcurrency
  ))
  const dailyQuota = read("MARKETO_DAILY_QUOTA", Config.withDefault(
    Schema.Config("MARKETO_DAILY_QUOTA", wholeNumber(1, 100_000_000)),
    defaults.dailyQuota
  ))
  const dailyReserve = read("MARKETO_DAILY_RESERVE", Config.withDefault(
    Schema.Config("MARKETO_DAILY_RESERVE", wholeNumber(0, 100_000_000)),
    defaults.dailyReserve
  ))
  const latencyTargetMinutes = read("SYNC_LATENCY_TARGET_MINUTES", Config.withDefault(
    Schema.Config("SYNC_LATENCY_TARGET_MINUTES", wholeNumber(1, 1_440, " (minutes a change may wait for its list)")),
    defaults.latencyTargetMinutes
  ))
  const leadFields = readLeadFieldSettings(read)
  if (dailyQuota !== undefined && dailyReserve !== undefined && dailyReserve >= dailyQuota) {
    problems.push(`MARKETO_DAILY_RESERVE (${dailyReserve}) must be below MARKETO_DAILY_QUOTA (${dailyQuota})`)
  }
  if (
    problems.length > 0 || endpoint === undefined || clientId === undefined || clientSecret === undefined || folder === undefined ||
    callsPer20s === undefined || maxConcurrency === undefined || dailyQuota === undefined || dailyReserve === undefined ||
    latencyTargetMinutes === undefined || leadFields === undefined
  ) return Either.left(problems)
  return Either.right({ endpoint, clientId, clientSecret, folder, callsPer20s, maxConcurrency, dailyQuota, dailyReserve, latencyTargetMinutes, leadFields })
}

export interface IngestSettings {
  /** Audiences ingest accepts events for; an event for a new key beyond it is rejected. */
  readonly maxAudiences: number
  /** AUDIENCE_KEYS, when set: events for other keys are rejected. */
  readonly audienceKeys?: AudienceKeyPatterns
}

/** What ingest checks each event's audience against. Every problem is listed, by setting name. */
export const ingestSettings = (env: SettingsEnv): Either.Either<IngestSettings, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  const read = reader(env, problems)
  const maxAudiences = read("MAX_AUDIENCES", Config.withDefault(
    Schema.Config("MAX_AUDIENCES", wholeNumber(1, 10_000, " (each audience is a Marketo list, and every tick and page load reads its record)")),
    defaults.maxAudiences
  ))
  const keys = read("AUDIENCE_KEYS", Config.option(Config.string("AUDIENCE_KEYS")))
  const audienceKeys = keys === undefined || keys._tag === "None"
    ? undefined
    : Either.match(parseAudienceKeys(keys.value), {
      onLeft: (why) => void problems.push(`AUDIENCE_KEYS ${why}`),
      onRight: (patterns) => patterns
    })
  if (problems.length > 0 || maxAudiences === undefined) return Either.left(problems)
  return Either.right({ maxAudiences, ...(audienceKeys === undefined ? {} : { audienceKeys }) })
}

/**
 * MARKETO_INSTANCE_URL as the origin the status page links lists to; undefined when not set. Only
 * an https origin is a link: anything else (a `javascript:` URL) would run in the admin's page.
 */
export const instanceUrl = (env: SettingsEnv): Either.Either<string | undefined, string> => {
  const value = env.MARKETO_INSTANCE_URL?.trim() ?? ""
  if (value === "") return Either.right(undefined)
  const problem = "MARKETO_INSTANCE_URL must be an https origin like https://app-ab12.marketo.com (no path, query or user name)"
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return Either.left(problem)
  }
  const bare = url.protocol === "https:" && url.username === "" && url.password === "" && url.pathname === "/" && url.search === "" && url.hash === ""
  return bare && /^https:\/\/[^/?#]+\/?$/i.test(value) ? Either.right(url.origin) : Either.left(problem)
}

const isSet = (value: string | undefined) => value !== undefined && value.trim() !== ""

/** Ingest credentials that are the admin token too: whoever sends events could drive the admin API. */
const sharedWithAdmin = (env: SettingsEnv): ReadonlyArray<"INGEST_TOKEN" | "INGEST_SECRET"> =>
  !isSet(env.ADMIN_TOKEN)
    ? []
    : (["INGEST_TOKEN", "INGEST_SECRET"] as const).filter((name) => isSet(env[name]) && env[name]!.trim() === env.ADMIN_TOKEN!.trim())

export const tokensShared = (env: SettingsEnv): boolean => sharedWithAdmin(env).length > 0

const sharedProblem = (name: string) =>
  `${name} equals ADMIN_TOKEN: every sender could use the admin API; set different secrets (the admin API refuses the token until then)`

export const sharedTokensProblem = sharedProblem("INGEST_TOKEN")

export const sharedTokensProblems = (env: SettingsEnv): ReadonlyArray<string> => sharedWithAdmin(env).map(sharedProblem)

/** Names of settings that are missing for ingest and admin (never their values). */
export const credentialProblems = (env: SettingsEnv): ReadonlyArray<string> => [
  ...(!isSet(env.INGEST_TOKEN) && !isSet(env.INGEST_SECRET) ? ["neither INGEST_TOKEN nor INGEST_SECRET is set: ingest refuses every request"] : []),
  ...(!isSet(env.ADMIN_TOKEN) ? ["ADMIN_TOKEN is not set: the admin API refuses every request"] : []),
  ...sharedTokensProblems(env)
]

/** Every configuration problem: the Marketo side, ingest's limits, the status page's link, the credentials. */
export const configurationProblems = (env: SettingsEnv): ReadonlyArray<string> => [
  ...Either.match(marketoSettings(env), { onLeft: (p) => p, onRight: () => [] }),
  ...Either.match(ingestSettings(env), { onLeft: (p) => p, onRight: () => [] }),
  ...Either.match(instanceUrl(env), { onLeft: (p) => [p], onRight: () => [] }),
  ...credentialProblems(env)
]
