// The MarketoApi port with a counter: a tick reports the calls each audience made, and the shared
// lead calls made for all of them.
import { Clock, Effect } from "effect"
import type { CallLog } from "./RateWindow.js"
import type { MarketoApi } from "../ports/MarketoApi.js"

/** The port, counting the calls made through it (a failed call was still spent). */
export const countingCalls = (api: MarketoApi["Type"], counter: CallLog): MarketoApi["Type"] => {
  const counted = {} as Record<string, unknown>
  const times = counter.times
  for (const [name, f] of Object.entries(api) as Array<[string, (...args: Array<unknown>) => Effect.Effect<unknown, unknown>]>) {
    counted[name] = (...args: Array<unknown>) => Effect.suspend(() => {
      counter.calls++
      // When it ended, for the tick's view of the rate window (core/5-tick/RateWindow.ts).
      return times === undefined ? f(...args) : f(...args).pipe(Effect.ensuring(Effect.map(Clock.currentTimeMillis, (t) => void times.push(t))))
    })
  }
  return counted as MarketoApi["Type"]
}
