// The MarketoApi port with a counter: a tick reports the calls each audience made, and the shared
// lead calls made for all of them.
import { Effect } from "effect"
import type { MarketoApi } from "../ports/MarketoApi.js"

/** The port, counting the calls made through it (a failed call was still spent). */
export const countingCalls = (api: MarketoApi["Type"], counter: { calls: number }): MarketoApi["Type"] => {
  const counted = {} as Record<string, unknown>
  for (const [name, f] of Object.entries(api) as Array<[string, (...args: Array<unknown>) => Effect.Effect<unknown, unknown>]>) {
    counted[name] = (...args: Array<unknown>) => Effect.suspend(() => {
      counter.calls++
      return f(...args)
    })
  }
  return counted as MarketoApi["Type"]
}
