// The reconciles in progress, in a tick: after the audiences' syncs, with what the tick has left of
// its time and of its calls, one step after another (ReconcileSteps.ts). A step never starts past
// the deadline, nor when its call would wait for the rate window until past it, nor once the
// tick's share of calls is spent; every call takes the rate limiter's permit in the port as any.
import { Cause, Clock, Effect, Exit, Option } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import { MarketoApi } from "../ports/MarketoApi.js"
import { countingCalls } from "./CountingCalls.js"
import { reasonOf } from "./FailureReason.js"
import { nextCallAt } from "./RateWindow.js"
import { noteFailure, removeRun } from "./ReconcileRun.js"
import { runSteps } from "./ReconcileSteps.js"
import type { SyncSettings } from "./SyncSettings.js"

export interface ReconcileTick {
  readonly calls: number
  readonly stop?: "deadline" | "quota"
}

export const reconcileInTick = Effect.fn("Reconcile.inTick")(function*(
  audiences: ReadonlyArray<AudienceKey>,
  settings: SyncSettings,
  /** When each call of the tick ended (the rate window's view), this tick's calls added. */
  callTimes: Array<number>,
  maxCalls: number
) {
  const counter = { calls: 0, times: callTimes }
  let stop: ReconcileTick["stop"]
  const mayGo = () =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      if (now >= settings.deadline || nextCallAt(callTimes, settings.budget, now) > settings.deadline) {
        stop = "deadline"
        return false
      }
      return counter.calls < maxCalls
    })
  for (const key of audiences) {
    if (!(yield* mayGo())) break
    const ran = yield* Effect.exit(runSteps(key, mayGo).pipe(
      Effect.provideServiceEffect(MarketoApi, Effect.map(MarketoApi, (api) => countingCalls(api, counter)))
    ))
    if (Exit.isSuccess(ran)) continue
    if (Cause.isInterruptedOnly(ran.cause)) return yield* Effect.failCause(ran.cause)
    const failure = Cause.failureOption(ran.cause)
    const tag = Option.match(failure, { onNone: () => "defect", onSome: (e) => e._tag })
    if (tag === "MarketoQuotaExhausted" || tag === "BudgetExhausted") {
      stop = "quota"
      break
    }
    // The list is gone (1013): the sync makes a new one; this run has nothing left to read.
    if (Option.isSome(failure) && failure.value._tag === "MarketoRejected" && failure.value.code === "1013") {
      yield* Effect.ignoreLogged(removeRun(key))
      continue
    }
    // Anything else waits for the next tick, the run as its last write left it, the failure noted
    // with it for the status page.
    const reason = reasonOf(ran.cause)
    yield* Effect.logWarning("reconcile step failed; it goes on next tick").pipe(Effect.annotateLogs({ audience: key, ...reason }))
    yield* Effect.ignoreLogged(noteFailure(key, reason))
  }
  return { calls: counter.calls, ...(stop === undefined ? {} : { stop }) } satisfies ReconcileTick
})
