// Drift repair over HTTP: GET shows what reading the list back will cost, POST does it (under the
// sync lease, so no tick runs meanwhile) and the next tick plans the adds and removes it found.
import { Effect, Either, Option } from "effect"
import { readRecord } from "../core/2-ledger/AudienceShards.js"
import type { AudienceKey } from "../core/1-events/Ids.js"
import { reconcileAudience, reconcileCost } from "../core/5-tick/Reconcile.js"
import { json, problem } from "./Http.js"
import { marketoLayer, run, stateLayer } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import type { MarketoSettings } from "./Settings.js"

export const reconcile = async (request: Request, platform: PlatformService, key: AudienceKey, settings: MarketoSettings): Promise<Response> => {
  const state = stateLayer(platform, settings.endpoint)
  if (request.method === "GET") {
    const record = await run(Effect.either(readRecord(key).pipe(Effect.provide(state))))
    if (Either.isLeft(record)) return problem(503, "state is not readable yet; retry")
    return Option.match(record.right, {
      onNone: () => problem(404, `no audience "${key}"`),
      onSome: (r) => json(200, { audience: key, listId: r.listId ?? null, calls: reconcileCost(r), run: `POST /admin/audiences/${encodeURIComponent(key)}/reconcile` })
    })
  }
  if (request.method !== "POST") return problem(405, "reconcile accepts GET (its cost) and POST (run it)", {}, { allow: "GET, POST" })
  const lease = platform.syncLease(settings.endpoint)
  const result = await run(Effect.either(
    lease.withLease(`reconcile-${crypto.randomUUID()}`, 60_000, reconcileAudience(key)).pipe(
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
  return Option.match(result.right, {
    onNone: () => problem(404, `no list yet for audience "${key}"`),
    onSome: (report) => json(200, { ...report, next: "the next sync tick makes the list exact" })
  })
}
