// Drift repair over HTTP: GET shows what reading the list back will cost (and a run in progress),
// POST starts a reconcile and runs its steps for up to 20 s under the sync lease (so no tick runs
// meanwhile). A small list is done then and answered with its report; a larger one is answered 202
// with its progress, and the ticks carry it on (core/5-tick/ReconcileTick.ts). The next ticks plan
// the adds and removes it found; the audience's `lastReconcile` keeps the report.
import { Clock, Effect, Either, Option } from "effect"
import { readRecord } from "../core/2-ledger/AudienceShards.js"
import type { AudienceKey } from "../core/1-events/Ids.js"
import { progressOf, readRun, reconcileCost, runSteps, startReconcile } from "../core/5-tick/Reconcile.js"
import { json, problem } from "./Http.js"
import { marketoLayer, run, stateLayer } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import type { MarketoSettings } from "./Settings.js"

/** How long a POST works on the run before it answers (the lease is 60 s, a Worker's CPU 30 s). */
const postMillis = 20_000

export const reconcile = async (request: Request, platform: PlatformService, key: AudienceKey, settings: MarketoSettings): Promise<Response> => {
  const state = stateLayer(platform, settings.endpoint)
  if (request.method === "GET") {
    const found = await run(Effect.either(Effect.all([readRecord(key), readRun(key)]).pipe(Effect.provide(state))))
    if (Either.isLeft(found)) return problem(503, "state is not readable yet; retry")
    const [record, running] = found.right
    return Option.match(record, {
      onNone: () => problem(404, `no audience "${key}"`),
      onSome: (r) =>
        json(200, {
          audience: key,
          listId: r.listId ?? null,
          calls: reconcileCost(r),
          run: `POST /admin/audiences/${encodeURIComponent(key)}/reconcile`,
          ...(Option.isSome(running) ? { running: progressOf(running.value) } : {}),
          ...(r.lastReconcile === undefined ? {} : { lastReconcile: r.lastReconcile })
        })
    })
  }
  if (request.method !== "POST") return problem(405, "reconcile accepts GET (its cost) and POST (run it)", {}, { allow: "GET, POST" })
  const lease = platform.syncLease(settings.endpoint)
  const work = Effect.gen(function*() {
    const started = yield* startReconcile(key)
    if (Option.isNone(started)) return Option.none()
    const until = (yield* Clock.currentTimeMillis) + postMillis
    const { last } = yield* runSteps(key, () => Effect.map(Clock.currentTimeMillis, (now) => now < until))
    return Option.some(last)
  })
  const result = await run(Effect.either(
    lease.withLease(`reconcile-${crypto.randomUUID()}`, 60_000, work).pipe(
      Effect.provide(marketoLayer(platform, settings)),
      Effect.provide(state)
    )
  ))
  if (Either.isLeft(result)) {
    const error = result.left
    if (error._tag === "LeaseHeld") return problem(409, "a sync is running; try again in a minute")
    return problem(502, "reading the list from Marketo failed", { tag: error._tag, ...("code" in error ? { code: error.code } : {}) })
  }
  // The status page's button posts a form: send the browser back to the page.
  if ((request.headers.get("content-type") ?? "").includes("application/x-www-form-urlencoded")) {
    return new Response(null, { status: 303, headers: { location: "/" } })
  }
  if (Option.isNone(result.right)) return problem(404, `no list yet for audience "${key}"`)
  const last = result.right.value
  if (last._tag === "Done") {
    const { membersRead, calls, missing, unexpected, strays, run: id } = last.report
    return json(200, { audience: key, membersRead, calls, missing, unexpected, strays, run: id, next: "the next sync tick makes the list exact" })
  }
  // Not done in this request: the ticks carry it on; its progress as stored.
  const progress = await run(Effect.either(readRun(key).pipe(Effect.provide(state))))
  const running = Either.isRight(progress) && Option.isSome(progress.right) ? progressOf(progress.right.value) : undefined
  return json(202, {
    audience: key,
    ...(running ?? {}),
    status: "running",
    next: last._tag === "Waiting"
      ? "the sync ticks first write what a stopped tick left, then carry the reconcile on"
      : "the sync ticks carry the reconcile on; GET this address for its progress"
  })
}
