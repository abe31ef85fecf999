// One tick of the core's sync with a deployment's settings: what the cron trigger and
// POST /admin/sync run under the instance's lease (workers/SyncRun.ts). It needs only the core's
// ports, so the tick benchmarks run it outside the Workers runtime too.
// Workers limits: a cron invocation may run 15 minutes of wall time, but CPU defaults to 30 s and an
// invocation may make 1,000 subrequests; the tick stops starting steps after 25 s so it ends well
// inside them, and the next minute's tick resumes where it stopped.
import { Effect } from "effect"
import type { LeadFieldSettings } from "../core/5-tick/LeadFieldSync.js"
import { RateLimiter } from "../core/ports/RateLimiter.js"
import { quotaOf, tickCapacity } from "../core/5-tick/Scheduler.js"
import { runTick } from "../core/5-tick/Tick.js"

export const tickBudgetMillis = 25_000

/**
 * The fold stops starting work at this share of the tick, so a backlog that would fold for the
 * whole tick (a 10,000,000-member load takes some 60 ticks to fold) never leaves the audiences
 * already folded without a sync: their steps get the rest of every tick.
 */
export const foldShare = 0.6

/** When a tick that starts at `now` stops starting work, and when its fold does. */
export const tickDeadlines = (now: number) => ({ deadline: now + tickBudgetMillis, foldDeadline: now + foldShare * tickBudgetMillis })

/** The settings a tick reads (a subset of workers/Settings.ts's MarketoSettings). */
export interface TickSettings {
  readonly folder: string
  readonly callsPer20s: number
  /** How long a change may wait for its list before the scheduler syncs it whatever the pacing. */
  readonly latencyTargetMinutes: number
  /** The lead fields this tick sends (checked against the instance: workers/LeadFieldCheck.ts), and when. */
  readonly sendFields?: LeadFieldSettings
}

/** The scheduler's settings for this deployment: its latency target and what one tick can do. */
export const schedulerSettings = (settings: Pick<TickSettings, "callsPer20s" | "latencyTargetMinutes">) => ({
  latencyTargetMillis: settings.latencyTargetMinutes * 60_000,
  tickIntervalMillis: 60_000,
  tickCallCapacity: tickCapacity(settings.callsPer20s, 20_000, tickBudgetMillis)
})

/** One tick of the core's sync with this deployment's settings, under whatever lease the caller holds. */
export const syncTick = (settings: TickSettings) =>
  Effect.gen(function*() {
    const now = yield* Effect.clockWith((c) => c.currentTimeMillis)
    // The scheduler paces the day's quota from what the instance's budget says is left.
    const status = yield* Effect.flatMap(RateLimiter, (limiter) => limiter.status)
    return yield* runTick({
      folderName: settings.folder,
      budget: { callsPerWindow: settings.callsPer20s, windowMillis: 20_000 },
      ...tickDeadlines(now),
      quota: quotaOf(status),
      scheduler: schedulerSettings(settings),
      ...(settings.sendFields === undefined ? {} : { leadFields: settings.sendFields })
    })
  })

