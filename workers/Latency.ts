// What the scheduler can promise now, for the admin status and the status page: the latency
// target, the latency the day's remaining quota lets it honour, and the audiences it would leave
// waiting on the next tick. Computed from the records and the budget, with no Marketo call.
import { Effect, Either } from "effect"
import type { BudgetStatus } from "../core/ports/RateLimiter.js"
import { quotaOf } from "../core/5-tick/Scheduler.js"
import { currentSchedule } from "../core/5-tick/AudienceScan.js"
import { run, stateLayer } from "./Layers.js"
import type { PlatformService } from "./Platform.js"
import type { MarketoSettings } from "./Settings.js"
import { schedulerSettings } from "./SyncTick.js"

export interface LatencyView {
  readonly targetMinutes: number
  readonly honouredMinutes: number
  /** Audiences with work the next tick would sync, and those it would leave for later. */
  readonly nextTick: number
  readonly deferred: number
}

const minutes = (millis: number) => Math.round(millis / 6_000) / 10

export const latencyView = async (platform: PlatformService, settings: MarketoSettings, budget: BudgetStatus | undefined): Promise<LatencyView | undefined> => {
  const schedule = await run(Effect.either(
    currentSchedule(budget === undefined ? undefined : quotaOf(budget), schedulerSettings(settings)).pipe(
      Effect.provide(stateLayer(platform, settings.endpoint))
    )
  ))
  return Either.match(schedule, {
    onLeft: () => undefined,
    onRight: (s) => ({
      targetMinutes: settings.latencyTargetMinutes,
      honouredMinutes: minutes(s.honouredLatencyMillis),
      nextTick: s.audiences.length,
      deferred: s.deferred.length
    })
  })
}
