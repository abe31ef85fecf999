// One sync tick under the instance's lease, for the cron trigger and for POST /admin/sync.
// Workers limits: a cron invocation may run 15 minutes of wall time, but CPU defaults to 30 s and an
// invocation may make 1,000 subrequests; the tick stops starting steps after 25 s so it ends well
// inside them, and the next minute's tick resumes where it stopped.
import { Effect, Either } from "effect"
import * as SyncLease from "../adapters/cloudflare/SyncLease.js"
import * as DurableRateLimiter from "../adapters/cloudflare/DurableRateLimiter.js"
import { RateLimiter } from "../core/ports/RateLimiter.js"
import { quotaOf, tickCapacity } from "../core/Scheduler.js"
import { runTick, type TickSummary } from "../core/Sync.js"
import { instanceFor, marketoLayer, stateLayer } from "./Layers.js"
import { type MarketoSettings, marketoSettings, type WorkerEnv } from "./Settings.js"

export const tickBudgetMillis = 25_000

/** The scheduler's settings for this deployment: its latency target and what one tick can do. */
export const schedulerSettings = (settings: MarketoSettings) => ({
  latencyTargetMillis: settings.latencyTargetMinutes * 60_000,
  tickIntervalMillis: 60_000,
  tickCallCapacity: tickCapacity(settings.callsPer20s, 20_000, tickBudgetMillis)
})
const leaseMillis = 60_000

export type SyncRunResult =
  | { readonly _tag: "Synced"; readonly summary: TickSummary }
  | { readonly _tag: "Busy"; readonly holder: string }
  | { readonly _tag: "Misconfigured"; readonly problems: ReadonlyArray<string> }

export const runSync = (env: WorkerEnv, holder: string): Effect.Effect<SyncRunResult, unknown> =>
  Either.match(marketoSettings(env), {
    onLeft: (problems) =>
      Effect.as(Effect.logError("sync skipped: configuration").pipe(Effect.annotateLogs({ problems: problems.join("; ") })), {
        _tag: "Misconfigured" as const,
        problems
      }),
    onRight: (settings) => {
      const lease = SyncLease.make(instanceFor(env, settings.endpoint))
      const tick = Effect.gen(function*() {
        const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
        // The scheduler paces the day's quota from what the instance's budget says is left.
        const status = yield* Effect.flatMap(RateLimiter, (limiter) => limiter.status)
        return yield* runTick({
          folderName: settings.folder,
          budget: { callsPerWindow: settings.callsPer20s, windowMillis: 20_000 },
          deadline: now + tickBudgetMillis,
          quota: quotaOf(status),
          scheduler: schedulerSettings(settings)
        })
      }).pipe(Effect.provide(DurableRateLimiter.layer(instanceFor(env, settings.endpoint))))
      return lease.withLease(holder, leaseMillis, tick).pipe(
        Effect.map((summary): SyncRunResult => ({ _tag: "Synced", summary })),
        Effect.catchTag("LeaseHeld", (held) => Effect.succeed<SyncRunResult>({ _tag: "Busy", holder: held.holder })),
        Effect.provide(marketoLayer(env, settings)),
        Effect.provide(stateLayer(env, settings.endpoint)),
        Effect.tap((result) => Effect.logInfo("sync").pipe(Effect.annotateLogs(
          result._tag === "Synced"
            ? {
              outcome: "synced",
              calls: result.summary.calls,
              inbox: result.summary.inboxFolded,
              audiences: result.summary.audiences.length,
              deferred: result.summary.deferred.length,
              honouredLatencyMinutes: Math.round(result.summary.honouredLatencyMillis / 6_000) / 10,
              stoppedBy: result.summary.stoppedBy ?? "done"
            }
            : { outcome: "busy" }
        )))
      )
    }
  })

