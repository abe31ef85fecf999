// The admin API (Bearer ADMIN_TOKEN): audiences and their lists, dry-run plans, a sync on demand,
// display names, and the instance's settings and budget. A configuration problem is an answer
// here, not a crash: the listing and the status show it by setting name.
import { Effect, Either, Option, Schema } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { dryRun, getAudience, listAudiences, removeAudience, setDisplayName } from "../core/5-tick/AudienceStatus.js"
import { AudienceKey } from "../core/1-events/Ids.js"
import { Plan } from "../core/3-plan/Plan.js"
import { retryQuarantine } from "../core/2-ledger/Quarantine.js"
import { adminAuthorized } from "./Auth.js"
import { refuseForgery } from "./CrossSite.js"
import { json, problem, withFacts } from "./Http.js"
import { instanceFor, run, stateLayer } from "./Layers.js"
import { latencyView } from "./Latency.js"
import { leadFieldsView, plannedLeadFields } from "./LeadFieldCheck.js"
import { reconcile } from "./Reconcile.js"
import type { RouteContext } from "./Router.js"
import { configurationProblems, ingestSettings, marketoSettings, type MarketoSettings, type SettingsEnv, sharedTokensProblems, tokensShared } from "./Settings.js"
import type { PlatformService } from "./Platform.js"
import { runSync } from "./SyncRun.js"
import { tickHealth } from "./TickStatus.js"

const encodePlan = Schema.encodeSync(Plan)

const unauthorized = () =>
  problem(401, "missing or invalid admin credentials: send Authorization: Bearer ADMIN_TOKEN", {}, {
    "www-authenticate": "Basic realm=\"admin\", charset=\"UTF-8\""
  })

const notReadable = () => problem(503, "state is not readable yet; retry")

/** The caller holds the admin token, and so does every sender: refused until the secrets differ. */
export const sharedTokens = (env: SettingsEnv) => problem(503, "the worker is not configured", { configuration: sharedTokensProblems(env) })

/** A route behind the admin token; one that changes something is also refused to foreign pages (workers/CrossSite.ts). */
const guarded = (handle: (context: RouteContext) => Promise<Response>) => async (context: RouteContext) => {
  if (!(await adminAuthorized(context.request, context.env.ADMIN_TOKEN))) return unauthorized()
  if (tokensShared(context.env)) return sharedTokens(context.env)
  return (await refuseForgery(context.request, context.env.ADMIN_TOKEN!)) ?? handle(context)
}

interface Configured {
  readonly context: RouteContext
  readonly settings: MarketoSettings
  readonly state: ReturnType<typeof stateLayer>
  readonly budget: { readonly callsPerWindow: number; readonly windowMillis: number }
}

/** A route that needs the Marketo settings: 503 naming every problem while they are invalid. */
const configured = (handle: (c: Configured) => Promise<Response>) =>
  guarded(async (context) =>
    Either.match(marketoSettings(context.env), {
      onLeft: () => Promise.resolve(problem(503, "the worker is not configured", { configuration: configurationProblems(context.env) })),
      onRight: (settings) =>
        handle({
          context,
          settings,
          state: stateLayer(context.platform, settings.endpoint),
          budget: { callsPerWindow: settings.callsPer20s, windowMillis: 20_000 }
        })
    })
  )

/** The `:key` parameter as an audience key, or a 400 that says why not. */
const withKey = (handle: (c: Configured, key: AudienceKey) => Promise<Response>) =>
  configured((c) =>
    Option.match(Schema.decodeUnknownOption(AudienceKey)(c.context.params["key"]), {
      onNone: () => Promise.resolve(problem(400, "the audience key must be 1 to 255 characters")),
      onSome: (key) => handle(c, key)
    })
  )

const budgetOf = async (platform: PlatformService, settings: MarketoSettings) => {
  const status = await run(Effect.either(rpcCall("status", () => instanceFor(platform, settings.endpoint).status())))
  return Either.getOrUndefined(status)
}

export const status = guarded(async ({ env, platform }) => {
  const settings = marketoSettings(env)
  const right = Either.getOrUndefined(settings)
  // Lead fields: the settings and their check against the instance; a field not sent is a problem.
  const leadFields = right === undefined ? undefined : await leadFieldsView(platform, right)
  const problems = [...configurationProblems(env), ...(leadFields?.problems ?? [])]
  return json(200, {
    configuration: { ok: problems.length === 0, problems },
    ...(leadFields === undefined ? {} : { leadFields }),
    ...(right === undefined ? {} : {
      endpoint: right.endpoint,
      folder: right.folder,
      limits: {
        callsPer20s: right.callsPer20s,
        maxConcurrency: right.maxConcurrency,
        dailyQuota: right.dailyQuota,
        dailyReserve: right.dailyReserve,
        latencyTargetMinutes: right.latencyTargetMinutes,
        ...Either.match(ingestSettings(env), { onLeft: () => ({}), onRight: (i) => ({ maxAudiences: i.maxAudiences }) })
      },
      ...(await (async () => {
        const budget = await budgetOf(platform, right)
        const { history: _history, ...health } = await tickHealth(platform, right.endpoint, Date.now())
        return { budget: budget ?? null, latency: (await latencyView(platform, right, budget)) ?? null, ...health }
      })())
    })
  })
})

/** Answers even while the settings are invalid: an empty listing with the problems named. */
export const audiences = guarded(async ({ env, platform }) => {
  const configuration = configurationProblems(env)
  const settings = marketoSettings(env)
  if (Either.isLeft(settings)) return withFacts(json(200, { audiences: [], configuration }), { configuration: configuration.length })
  const listed = await run(Effect.either(listAudiences.pipe(Effect.provide(stateLayer(platform, settings.right.endpoint)))))
  return Either.isLeft(listed) ? notReadable() : json(200, { audiences: listed.right, configuration })
})

/** The audience's tombstone, if it was ever removed: when, and how many older events were ignored since. */
const removedInfo = async (platform: PlatformService, settings: MarketoSettings, key: AudienceKey) => {
  const stones = await run(Effect.either(rpcCall("tombstones", () => instanceFor(platform, settings.endpoint).tombstones())))
  if (Either.isLeft(stones)) return Either.left(stones.left)
  const stone = stones.right.find((t) => t.key === key)
  return Either.right(stone === undefined ? undefined : { at: stone.removedAt, ignoredEvents: stone.ignored })
}

export const audience = withKey(async ({ context, settings, state }, key) => {
  const [view, removed] = await Promise.all([
    run(Effect.either(getAudience(key).pipe(Effect.provide(state)))),
    removedInfo(context.platform, settings, key)
  ])
  if (Either.isLeft(view) || Either.isLeft(removed)) return notReadable()
  const tombstone = removed.right === undefined ? {} : { removed: removed.right }
  return Option.match(view.right, {
    onNone: () =>
      removed.right === undefined
        ? problem(404, `no audience "${key}"`)
        : problem(404, `no audience "${key}": it was removed at ${new Date(removed.right.at).toISOString()}; events older than that are ignored`, tombstone),
    onSome: (v) => json(200, { ...v, ...tombstone })
  })
})

export const plan = withKey(async ({ budget, context, settings, state }, key) => {
  const leadFields = await run(plannedLeadFields(context.platform, settings))
  const planned = await run(Effect.either(dryRun(key, { folderName: settings.folder, budget, ...(leadFields === undefined ? {} : { leadFields }) }).pipe(Effect.provide(state))))
  if (Either.isLeft(planned)) return notReadable()
  return Option.match(planned.right, {
    onNone: () => problem(404, `no audience "${key}"`),
    onSome: (p) => json(200, { audience: key, calls: p.calls, minDurationSeconds: p.minDurationSeconds, steps: encodePlan(p.plan).steps })
  })
})

export const sync = configured(async ({ context }) => {
  const result = await run(Effect.either(runSync(context.platform, `admin-${crypto.randomUUID()}`)))
  if (Either.isLeft(result)) return problem(500, "the sync failed; it is retried on the next tick")
  switch (result.right._tag) {
    case "Busy":
      return problem(409, "another sync is running; try again in a minute")
    case "Misconfigured":
      return problem(503, "the worker is not configured", { configuration: result.right.problems })
    case "Synced":
      return json(200, result.right.summary)
  }
})

const nameShape = "the body must be JSON like {\"name\": \"VIP customers\"}"

export const rename = withKey(async ({ context, settings, state }, key) => {
  let name: unknown
  try {
    name = ((await context.request.json()) as { name?: unknown } | null)?.name
  } catch {
    return problem(400, nameShape)
  }
  if (typeof name !== "string") return problem(400, nameShape)
  const set = await run(Effect.either(setDisplayName(key, name).pipe(Effect.provide(state))))
  if (Either.isLeft(set)) return set.left._tag === "InvalidName" ? problem(400, set.left.reason) : problem(503, "the name could not be stored; retry")
  // An audience named before its first event counts against MAX_AUDIENCES like any other.
  const registered = await run(Effect.either(rpcCall("registerAudience", () => instanceFor(context.platform, settings.endpoint).registerAudience(key))))
  if (Either.isLeft(registered)) return problem(503, "the name is stored, but the audience could not be registered; retry")
  return json(200, { key, listName: name.trim() })
})

export const remove = withKey(async ({ context, settings, state }, key) => {
  const mode = new URL(context.request.url).searchParams.get("list") ?? context.env.AUDIENCE_REMOVAL ?? "keep"
  if (mode !== "keep" && mode !== "empty") return problem(400, `list must be "keep" or "empty" (AUDIENCE_REMOVAL), got "${mode.slice(0, 20)}"`)
  const removed = await run(Effect.either(removeAudience(key, mode).pipe(Effect.provide(state))))
  if (Either.isLeft(removed)) return notReadable()
  // The tombstone: events older than now are ignored from here on, at ingest and in the fold, so a
  // replayed body cannot bring the audience back. An audience whose first events still wait in the
  // inbox (no record yet) is removed by its tombstone alone.
  const at = Date.now()
  const buried = await run(Effect.either(rpcCall("buryAudience", () => instanceFor(context.platform, settings.endpoint).buryAudience(key, at, !removed.right))))
  if (Either.isLeft(buried)) return problem(503, "the removal is not complete: its tombstone could not be stored; send the DELETE again")
  if (!buried.right) return problem(404, `no audience "${key}"`)
  return json(200, {
    audience: key,
    list: !removed.right || mode === "keep" ? "kept as it is; no longer synced" : "being emptied by the next ticks; then no longer synced",
    removedAt: at,
    events: "events older than removedAt are ignored; newer ones start the audience afresh"
  })
})

/** Put the quarantined changes back into the inbox; the next tick folds them again. */
export const retryQuarantined = configured(async ({ context, state }) => {
  const retried = await run(Effect.either(retryQuarantine().pipe(Effect.provide(state))))
  if (Either.isLeft(retried)) return problem(503, "the quarantine could not be read or the inbox written; retry", { detail: retried.left._tag })
  // The status page's button posts a form: send the browser back to the page.
  if ((context.request.headers.get("content-type") ?? "").includes("application/x-www-form-urlencoded")) {
    return new Response(null, { status: 303, headers: { location: "/" } })
  }
  return json(200, { ...retried.right, next: "the next tick folds them again" })
})

export const reconcileRoute = withKey(({ context, settings }, key) => reconcile(context.request, context.platform, key, settings))
