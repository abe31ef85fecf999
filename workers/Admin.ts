// The admin API (Bearer ADMIN_TOKEN): audiences and their lists, dry-run plans, a sync on demand,
// display names, and the instance's settings and budget. A configuration problem is an answer
// here, not a crash: the listing and the status show it by setting name.
import { Effect, Either, Option, Schema } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { dryRun, getAudience, listAudiences, removeAudience, setDisplayName } from "../core/5-tick/AudienceStatus.js"
import { AudienceKey } from "../core/1-events/Ids.js"
import { Plan } from "../core/3-plan/Plan.js"
import { adminAuthorized } from "./Auth.js"
import { json, problem, withFacts } from "./Http.js"
import { instanceFor, run, stateLayer } from "./Layers.js"
import { latencyView } from "./Latency.js"
import { leadFieldsView } from "./LeadFieldCheck.js"
import { reconcile } from "./Reconcile.js"
import type { RouteContext } from "./Router.js"
import { configurationProblems, marketoSettings, type MarketoSettings, type WorkerEnv } from "./Settings.js"
import { runSync } from "./SyncRun.js"

const encodePlan = Schema.encodeSync(Plan)

const unauthorized = () =>
  problem(401, "missing or invalid admin credentials: send Authorization: Bearer ADMIN_TOKEN", {}, {
    "www-authenticate": "Basic realm=\"admin\", charset=\"UTF-8\""
  })

const notReadable = () => problem(503, "state is not readable yet; retry")

/** A route behind the admin token. */
const guarded = (handle: (context: RouteContext) => Promise<Response>) => async (context: RouteContext) =>
  (await adminAuthorized(context.request, context.env.ADMIN_TOKEN)) ? handle(context) : unauthorized()

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
          state: stateLayer(context.env, settings.endpoint),
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

const budgetOf = async (env: WorkerEnv, settings: MarketoSettings) => {
  const status = await run(Effect.either(rpcCall("status", () => instanceFor(env, settings.endpoint).status())))
  return Either.getOrUndefined(status)
}

export const status = guarded(async ({ env }) => {
  const settings = marketoSettings(env)
  const right = Either.getOrUndefined(settings)
  // Lead fields: the settings and their check against the instance; a field not sent is a problem.
  const leadFields = right === undefined ? undefined : await leadFieldsView(env, right)
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
        latencyTargetMinutes: right.latencyTargetMinutes
      },
      ...(await (async () => {
        const budget = await budgetOf(env, right)
        return { budget: budget ?? null, latency: (await latencyView(env, right, budget)) ?? null }
      })())
    })
  })
})

/** Answers even while the settings are invalid: an empty listing with the problems named. */
export const audiences = guarded(async ({ env }) => {
  const configuration = configurationProblems(env)
  const settings = marketoSettings(env)
  if (Either.isLeft(settings)) return withFacts(json(200, { audiences: [], configuration }), { configuration: configuration.length })
  const listed = await run(Effect.either(listAudiences.pipe(Effect.provide(stateLayer(env, settings.right.endpoint)))))
  return Either.isLeft(listed) ? notReadable() : json(200, { audiences: listed.right, configuration })
})

export const audience = withKey(async ({ state }, key) => {
  const view = await run(Effect.either(getAudience(key).pipe(Effect.provide(state))))
  if (Either.isLeft(view)) return notReadable()
  return Option.match(view.right, { onNone: () => problem(404, `no audience "${key}"`), onSome: (v) => json(200, v) })
})

export const plan = withKey(async ({ budget, settings, state }, key) => {
  const planned = await run(Effect.either(dryRun(key, { folderName: settings.folder, budget }).pipe(Effect.provide(state))))
  if (Either.isLeft(planned)) return notReadable()
  return Option.match(planned.right, {
    onNone: () => problem(404, `no audience "${key}"`),
    onSome: (p) => json(200, { audience: key, calls: p.calls, minDurationSeconds: p.minDurationSeconds, steps: encodePlan(p.plan).steps })
  })
})

export const sync = configured(async ({ context }) => {
  const result = await run(Effect.either(runSync(context.env, `admin-${crypto.randomUUID()}`)))
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

export const rename = withKey(async ({ context, state }, key) => {
  let name: unknown
  try {
    name = ((await context.request.json()) as { name?: unknown } | null)?.name
  } catch {
    return problem(400, nameShape)
  }
  if (typeof name !== "string") return problem(400, nameShape)
  const set = await run(Effect.either(setDisplayName(key, name).pipe(Effect.provide(state))))
  if (Either.isLeft(set)) return set.left._tag === "InvalidName" ? problem(400, set.left.reason) : problem(503, "the name could not be stored; retry")
  return json(200, { key, listName: name.trim() })
})

export const remove = withKey(async ({ context, state }, key) => {
  const mode = new URL(context.request.url).searchParams.get("list") ?? context.env.AUDIENCE_REMOVAL ?? "keep"
  if (mode !== "keep" && mode !== "empty") return problem(400, `list must be "keep" or "empty" (AUDIENCE_REMOVAL), got "${mode.slice(0, 20)}"`)
  const removed = await run(Effect.either(removeAudience(key, mode).pipe(Effect.provide(state))))
  if (Either.isLeft(removed)) return notReadable()
  if (!removed.right) return problem(404, `no audience "${key}"`)
  return json(200, { audience: key, list: mode === "keep" ? "kept as it is; no longer synced" : "being emptied by the next ticks; then no longer synced" })
})

export const reconcileRoute = withKey(({ context, settings }, key) => reconcile(context.request, context.env, key, settings))
