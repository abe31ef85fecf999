// One sync tick under the instance's lease, for the cron trigger and for POST /admin/sync.
// Workers limits: a cron invocation may run 15 minutes of wall time, but CPU defaults to 30 s and an
// invocation may make 1,000 subrequests; the tick stops starting steps after 25 s so it ends well
// inside them, and the next minute's tick resumes where it stopped.
import { Effect, Either } from "effect"
import * as SyncLease from "../adapters/cloudflare/SyncLease.js"
import { runTick, type TickSummary } from "../core/Sync.js"
import { instanceFor, marketoLayer, stateLayer } from "./Layers.js"
import { marketoSettings, type WorkerEnv } from "./Settings.js"

export const tickBudgetMillis = 25_000
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
      const tick = Effect.flatMap(Effect.clockWith((c) => c.currentTimeMillis), (now) =>
        runTick({
          folderName: settings.folder,
          budget: { callsPerWindow: settings.callsPer20s, windowMillis: 20_000 },
          deadline: now + tickBudgetMillis
        }))
      return lease.withLease(holder, leaseMillis, tick).pipe(
        Effect.map((summary): SyncRunResult => ({ _tag: "Synced", summary })),
        Effect.catchTag("LeaseHeld", (held) => Effect.succeed<SyncRunResult>({ _tag: "Busy", holder: held.holder })),
        Effect.provide(marketoLayer(env, settings)),
        Effect.provide(stateLayer(env, settings.endpoint)),
        Effect.tap((result) => Effect.logInfo("sync").pipe(Effect.annotateLogs(
          result._tag === "Synced"
            ? { outcome: "synced", calls: result.summary.calls, inbox: result.summary.inboxFolded, audiences: result.summary.audiences.length, stoppedBy: result.summary.stoppedBy ?? "done" }
            : { outcome: "busy" }
        )))
      )
    }
  })

