// A clock a contract case can move forward at once: real time plus the time the case skipped.
// A lease's time to live is then tested by skipping past it rather than sleeping past it, so a
// loaded machine (a timer that fires late) cannot change the verdict. Harnesses whose lease reads
// a clock of its own (a Durable Object reads Date.now) sleep instead.
import { Clock, Effect } from "effect"
import type { ContractCase } from "./Contract.js"

export const makeSkewClock = () => {
  const base = Clock.make()
  let skipped = 0
  const millis = () => base.unsafeCurrentTimeMillis() + skipped
  const nanos = () => base.unsafeCurrentTimeNanos() + BigInt(skipped) * 1_000_000n
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: millis,
    currentTimeMillis: Effect.sync(millis),
    unsafeCurrentTimeNanos: nanos,
    currentTimeNanos: Effect.sync(nanos),
    sleep: (duration) => base.sleep(duration)
  }
  return {
    clock,
    /** Move this clock `ms` forward. */
    skip: (ms: number) => Effect.sync(() => void (skipped += ms)),
    /** The cases, each run on this clock. */
    on: <H>(cases: ReadonlyArray<ContractCase<H>>): ReadonlyArray<ContractCase<H>> =>
      cases.map((c) => ({ ...c, run: (h: H) => Effect.withClock(c.run(h), clock) }))
  }
}
