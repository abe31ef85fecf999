// The admin API (Bearer ADMIN_TOKEN): audiences and their lists, dry-run plans, a sync on demand,
// display names, and the instance's settings and budget. A configuration problem is an answer
// here, not a crash: the listing shows it by setting name.
import { Effect, Either, Option, Schema } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { dryRun, getAudience, listAudiences, removeAudience, setDisplayName } from "../core/AudienceStatus.js"
import { AudienceKey } from "../core/Ids.js"
import { Plan } from "../core/Plan.js"
import { adminAuthorized } from "./Auth.js"
import { json, problem } from "./Http.js"
import { instanceFor, run, stateLayer } from "./Layers.js"
import { credentialProblems, marketoSettings, type WorkerEnv } from "./Settings.js"
import { reconcile } from "./Reconcile.js"
import { runSync } from "./SyncRun.js"

const encodePlan = Schema.encodeSync(Plan)

const decodeKey = (raw: string) => {
  try {
    return Schema.decodeUnknownOption(AudienceKey)(decodeURIComponent(raw))
  } catch {
    return Option.none()
  }
}

export const admin = async (request: Request, env: WorkerEnv, path: string): Promise<Response> => {
  if (!(await adminAuthorized(request, env.ADMIN_TOKEN))) {
    return problem(401, "missing or invalid admin credentials: send Authorization: Bearer ADMIN_TOKEN", {}, { "www-authenticate": "Basic realm=\"admin\", charset=\"UTF-8\"" })
  }
  const settings = marketoSettings(env)
  const configuration = [...Either.match(settings, { onLeft: (p) => p, onRight: () => [] }), ...credentialProblems(env)]
  const method = request.method

  if (path === "/admin/status" && method === "GET") {
    const budget = Either.isRight(settings)
      ? await run(Effect.either(rpcCall("status", () => instanceFor(env, settings.right.endpoint).status())))
      : undefined
    return json(200, {
      configuration: { ok: configuration.length === 0, problems: configuration },
      folder: Either.isRight(settings) ? settings.right.folder : undefined,
      endpoint: Either.isRight(settings) ? settings.right.endpoint : undefined,
      budget: budget !== undefined && Either.isRight(budget) ? budget.right : undefined
    })
  }
  if (Either.isLeft(settings)) {
    return path === "/admin/audiences" && method === "GET"
      ? json(200, { audiences: [], configuration })
      : problem(503, "the worker is not configured", { configuration })
  }
  const state = stateLayer(env, settings.right.endpoint)
  const budget = { callsPerWindow: settings.right.callsPer20s, windowMillis: 20_000 }

  if (path === "/admin/sync") {
    if (method !== "POST") return problem(405, "/admin/sync accepts POST only", {}, { allow: "POST" })
    const result = await run(Effect.either(runSync(env, `admin-${crypto.randomUUID()}`)))
    if (Either.isLeft(result)) return problem(500, "the sync failed; it is retried on the next tick")
    if (result.right._tag === "Busy") return problem(409, "another sync is running; try again in a minute")
    if (result.right._tag === "Misconfigured") return problem(503, "the worker is not configured", { configuration: result.right.problems })
    return json(200, result.right.summary)
  }
  if (path === "/admin/audiences") {
    if (method !== "GET") return problem(405, "/admin/audiences accepts GET only", {}, { allow: "GET" })
    const audiences = await run(Effect.either(listAudiences.pipe(Effect.provide(state))))
    return Either.isLeft(audiences)
      ? problem(503, "state is not readable yet; retry", { detail: audiences.left._tag })
      : json(200, { audiences: audiences.right, configuration })
  }
  const match = /^\/admin\/audiences\/([^/]+)(\/plan|\/name|\/reconcile)?$/.exec(path)
  if (match === null) return problem(404, `no admin route ${path}`)
  const key = decodeKey(match[1]!)
  if (Option.isNone(key)) return problem(400, "the audience key must be 1 to 255 characters")
  const sub = match[2]

  if (sub === "/name") {
    if (method !== "PUT") return problem(405, "the name accepts PUT only", {}, { allow: "PUT" })
    let name: unknown
    try {
      name = ((await request.json()) as { name?: unknown }).name
    } catch {
      return problem(400, "the body must be JSON like {\"name\": \"VIP customers\"}")
    }
    if (typeof name !== "string") return problem(400, "the body must be JSON like {\"name\": \"VIP customers\"}")
    const set = await run(Effect.either(setDisplayName(key.value, name).pipe(Effect.provide(state))))
    if (Either.isLeft(set)) return set.left._tag === "InvalidName" ? problem(400, set.left.reason) : problem(503, "the name could not be stored; retry")
    return json(200, { key: key.value, listName: name.trim() })
  }
  if (sub === "/reconcile") return reconcile(request, env, key.value, settings.right)
  if (sub === undefined && method === "DELETE") {
    const mode = new URL(request.url).searchParams.get("list") ?? env.AUDIENCE_REMOVAL ?? "keep"
    if (mode !== "keep" && mode !== "empty") return problem(400, `list must be "keep" or "empty" (AUDIENCE_REMOVAL), got "${mode.slice(0, 20)}"`)
    const removed = await run(Effect.either(removeAudience(key.value, mode).pipe(Effect.provide(state))))
    if (Either.isLeft(removed)) return problem(503, "state is not readable yet; retry")
    if (!removed.right) return problem(404, `no audience "${key.value}"`)
    return json(200, { audience: key.value, list: mode === "keep" ? "kept as it is; no longer synced" : "being emptied by the next ticks; then no longer synced" })
  }
  if (method !== "GET") return problem(405, `${path} accepts GET and DELETE only`, {}, { allow: "GET, DELETE" })
  if (sub === "/plan") {
    const plan = await run(Effect.either(dryRun(key.value, { folderName: settings.right.folder, budget }).pipe(Effect.provide(state))))
    if (Either.isLeft(plan)) return problem(503, "state is not readable yet; retry")
    return Option.match(plan.right, {
      onNone: () => problem(404, `no audience "${key.value}"`),
      onSome: (p) => json(200, { audience: key.value, calls: p.calls, minDurationSeconds: p.minDurationSeconds, steps: encodePlan(p.plan).steps })
    })
  }
  const view = await run(Effect.either(getAudience(key.value).pipe(Effect.provide(state))))
  if (Either.isLeft(view)) return problem(503, "state is not readable yet; retry")
  return Option.match(view.right, {
    onNone: () => problem(404, `no audience "${key.value}"`),
    onSome: (v) => json(200, v)
  })
}
