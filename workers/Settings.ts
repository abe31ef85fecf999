// The worker's settings, read from wrangler vars and secrets on every invocation and checked:
// a missing or invalid one is named (never its value), and only the parts that need it stop.
import { Either, Redacted } from "effect"
import { normalizeEndpoint } from "../adapters/marketo/Endpoint.js"

/** Env as deployed: vars from wrangler.toml plus secrets set with `wrangler secret put`. */
export type WorkerEnv = Env & {
  readonly MARKETO_ENDPOINT?: string
  readonly MARKETO_CLIENT_ID?: string
  readonly MARKETO_CLIENT_SECRET?: string
  readonly INGEST_TOKEN?: string
  readonly INGEST_SECRET?: string
  readonly ADMIN_TOKEN?: string
  readonly MARKETO_INSTANCE_URL?: string
  /** What DELETE /admin/audiences/:key does to the list by default: "keep" (default) or "empty". */
  readonly AUDIENCE_REMOVAL?: string
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
}

const text = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim())

const positiveInt = (name: string, raw: string | undefined, fallback: number, problems: Array<string>) => {
  if (text(raw) === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) {
    problems.push(`${name} must be a positive whole number, got "${String(raw).slice(0, 20)}"`)
    return fallback
  }
  return n
}

/** The Marketo side: what a sync tick needs. Every problem is listed, by setting name. */
export const marketoSettings = (env: WorkerEnv): Either.Either<MarketoSettings, ReadonlyArray<string>> => {
  const problems: Array<string> = []
  const rawEndpoint = text(env.MARKETO_ENDPOINT)
  let endpoint = ""
  if (rawEndpoint === undefined) problems.push("MARKETO_ENDPOINT is not set (Admin → Web Services → REST API endpoint)")
  else Either.match(normalizeEndpoint(rawEndpoint), { onLeft: (p) => problems.push(p), onRight: (e) => (endpoint = e) })
  const clientId = text(env.MARKETO_CLIENT_ID)
  if (clientId === undefined) problems.push("MARKETO_CLIENT_ID is not set (the LaunchPoint service's Client Id)")
  const clientSecret = text(env.MARKETO_CLIENT_SECRET)
  if (clientSecret === undefined) problems.push("MARKETO_CLIENT_SECRET is not set (wrangler secret put MARKETO_CLIENT_SECRET)")
  const folder = text(env.MARKETO_FOLDER) ?? "Engage Audiences"
  const callsPer20s = positiveInt("MARKETO_CALLS_PER_20S", env.MARKETO_CALLS_PER_20S, 50, problems)
  const maxConcurrency = positiveInt("MARKETO_MAX_CONCURRENCY", env.MARKETO_MAX_CONCURRENCY, 5, problems)
  const dailyQuota = positiveInt("MARKETO_DAILY_QUOTA", env.MARKETO_DAILY_QUOTA, 50_000, problems)
  const dailyReserve = text(env.MARKETO_DAILY_RESERVE) === undefined ? 5_000 : Number(env.MARKETO_DAILY_RESERVE)
  if (!Number.isInteger(dailyReserve) || dailyReserve < 0 || dailyReserve >= dailyQuota) {
    problems.push(`MARKETO_DAILY_RESERVE must be a whole number from 0 to below MARKETO_DAILY_QUOTA (${dailyQuota})`)
  }
  if (callsPer20s > 100) problems.push("MARKETO_CALLS_PER_20S must be at most 100 (Marketo's limit per instance)")
  if (maxConcurrency > 10) problems.push("MARKETO_MAX_CONCURRENCY must be at most 10 (Marketo's limit per instance)")
  if (problems.length > 0 || clientId === undefined || clientSecret === undefined) return Either.left(problems)
  return Either.right({
    endpoint,
    clientId,
    clientSecret: Redacted.make(clientSecret),
    folder,
    callsPer20s,
    maxConcurrency,
    dailyQuota,
    dailyReserve
  })
}

/** Names of settings that are missing for ingest and admin (never their values). */
export const credentialProblems = (env: WorkerEnv): ReadonlyArray<string> => [
  ...(text(env.INGEST_TOKEN) === undefined && text(env.INGEST_SECRET) === undefined ? ["neither INGEST_TOKEN nor INGEST_SECRET is set: ingest refuses every request"] : []),
  ...(text(env.ADMIN_TOKEN) === undefined ? ["ADMIN_TOKEN is not set: the admin API refuses every request"] : [])
]
