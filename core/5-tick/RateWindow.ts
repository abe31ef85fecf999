// When the tick's next Marketo call can start, from the calls it has made: a step whose first
// call would wait for the rate window until past the deadline is not started, so a tick ends by
// its deadline plus one step rather than plus a window's wait. The budget is the instance's, so
// calls made elsewhere can still make a step wait; this only keeps the tick's own calls from it.
import { arrivalMarginMillis } from "../marketo/RateBudget.js"
export interface CallLog {
  calls: number
  /** When each call counted ended (no earlier than its permit), oldest first (epoch ms). */
  readonly times?: Array<number>
}


export const nextCallAt = (
  times: ReadonlyArray<number>,
  budget: { readonly callsPerWindow: number; readonly windowMillis: number },
  now: number
): number => {
  let first = times.length
  while (first > 0 && times[first - 1]! > now - budget.windowMillis) first--
  const inWindow = times.length - first
  if (inWindow < budget.callsPerWindow) return now
  return times[times.length - budget.callsPerWindow]! + budget.windowMillis + arrivalMarginMillis
}
