// One sync tick (workers/SyncTick.ts) under the instance's lease, for the cron trigger and for
// POST /admin/sync.
import { Cause, Effect, Either, Option } from "effect"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { reasonOf } from "../core/5-tick/FailureReason.js"
import { failedTickRecord, type TickRecord, tickRecordOf } from "../core/5-tick/TickOutcome.js"
import type { TickSummary } from "../core/5-tick/Tick.js"
import { foldStateLayer, instanceFor, marketoLayer } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import { marketoSettings } from "./Settings.js"
import { checkedLeadFields } from "./LeadFieldCheck.js"
import { syncTick } from "./SyncTick.js"

const leaseMillis = 60_000

const isLeaseHeld = (error: unknown) => typeof error === "object" && error !== null && "_tag" in error && error._tag === "LeaseHeld"

export type SyncRunResult =
  | { readonly _tag: "Synced"; readonly summary: TickSummary }
  | { readonly _tag: "Busy"; readonly holder: string }
  | { readonly _tag: "Misconfigured"; readonly problems: ReadonlyArray<string> }

export const runSync = (platform: PlatformService, holder: string): Effect.Effect<SyncRunResult, unknown> =>
  Either.match(marketoSettings(platform.env), {
    onLeft: (problems) =>
      Effect.as(Effect.logError("sync skipped: configuration").pipe(Effect.annotateLogs({ problems: problems.join("; ") })), {
        _tag: "Misconfigured" as const,
        problems
      }),
    onRight: (settings) => {
      const lease = platform.syncLease(settings.endpoint)
      // The lead fields are checked against the instance (once; then read from its records).
      const tick = Effect.flatMap(checkedLeadFields(platform, settings), (sendFields) =>
        syncTick({ ...settings, ...(sendFields === undefined ? {} : { sendFields }) })).pipe(
          Effect.provide(platform.rateLimiter(settings.endpoint))
        )
      const instance = instanceFor(platform, settings.endpoint)
      // What the tick did is kept with the instance's records for the page and the status, whether it
      // synced, failed in part or failed whole; a busy lease is no tick.
      const record = (tickRecord: TickRecord) =>
        Effect.ignoreLogged(rpcCall("recordTick", () => instance.recordTick(tickRecord)))
      return lease.withLease(holder, leaseMillis, tick).pipe(
        Effect.tap((summary) => record(tickRecordOf(summary, Date.now()))),
        Effect.tapErrorCause((cause) =>
          Cause.isInterruptedOnly(cause) || Option.exists(Cause.failureOption(cause), (e) => isLeaseHeld(e))
            ? Effect.void
            : record(failedTickRecord(Date.now(), reasonOf(cause)))
        ),
        Effect.map((summary): SyncRunResult => ({ _tag: "Synced", summary })),
        Effect.catchTag("LeaseHeld", (held) => Effect.succeed<SyncRunResult>({ _tag: "Busy", holder: held.holder })),
        Effect.provide(marketoLayer(platform, settings)),
        Effect.provide(foldStateLayer(platform, settings.endpoint)),
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

