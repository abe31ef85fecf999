// One sync tick (workers/SyncTick.ts) under the instance's lease, for the cron trigger and for
// POST /admin/sync.
import { Effect, Either } from "effect"
import * as SyncLease from "../adapters/cloudflare/SyncLease.js"
import * as DurableRateLimiter from "../adapters/cloudflare/DurableRateLimiter.js"
import type { TickSummary } from "../core/5-tick/Tick.js"
import { instanceFor, marketoLayer, stateLayer } from "./Layers.js"
import { checkedLeadFields } from "./LeadFieldCheck.js"
import { marketoSettings, type WorkerEnv } from "./Settings.js"
import { syncTick } from "./SyncTick.js"

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
      // The lead fields are checked against the instance (once; then read from its Durable Object).
      const tick = Effect.flatMap(checkedLeadFields(env, settings), (sendFields) =>
        syncTick({ ...settings, ...(sendFields === undefined ? {} : { sendFields }) })).pipe(
          Effect.provide(DurableRateLimiter.layer(instanceFor(env, settings.endpoint)))
        )
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

