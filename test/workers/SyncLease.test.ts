// The sync lease over a stand-in for the Durable Object's lease methods (the same rules as
// workers/MarketoInstance.ts), under TestClock: a holder that runs longer than the lease's time to
// live keeps it by renewing, and a holder whose lease was taken is stopped.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, TestClock } from "effect"
import type { LeaseAnswer } from "../../adapters/cloudflare/MarketoInstanceApi.js"
import * as SyncLease from "../../adapters/cloudflare/SyncLease.js"

const leaseObject = () => {
  const state = { now: 0, lease: null as { holder: string; expiresAt: number } | null, renewals: 0 }
  const current = () => (state.lease !== null && state.lease.expiresAt > state.now ? state.lease : null)
  const take = (holder: string, ttl: number): LeaseAnswer => {
    state.lease = { holder, expiresAt: state.now + ttl }
    return { granted: true, ...state.lease }
  }
  const object: SyncLease.LeaseObject = {
    acquireLease: async (holder, ttl) => {
      const lease = current()
      return lease !== null && lease.holder !== holder ? { granted: false, ...lease } : take(holder, ttl)
    },
    renewLease: async (holder, ttl) => {
      const lease = current()
      if (lease === null || lease.holder !== holder) return lease === null ? { granted: false, holder: "", expiresAt: 0 } : { granted: false, ...lease }
      state.renewals++
      return take(holder, ttl)
    },
    releaseLease: async (holder) => {
      const lease = current()
      if (lease === null || lease.holder !== holder) return false
      state.lease = null
      return true
    }
  } as SyncLease.LeaseObject
  /** Moves the object's clock and the fibers' TestClock together. */
  const advance = (millis: number) => Effect.zipRight(Effect.sync(() => (state.now += millis)), TestClock.adjust(millis))
  return { state, object, advance }
}

describe("sync lease", () => {
  it.effect("a tick that runs 150 s under a 60 s lease keeps it: the next cron tick is refused while it runs", () =>
    Effect.gen(function*() {
      const { state, object, advance } = leaseObject()
      const lease = SyncLease.make(object)
      const tick = yield* Effect.fork(lease.withLease("tick-1", 60_000, Effect.as(Effect.sleep("150 seconds"), "done")))
      for (let t = 0; t < 150; t += 10) {
        yield* advance(10_000)
        if (t === 60 || t === 120) {
          const other = yield* Effect.either(lease.withLease("tick-2", 60_000, Effect.succeed("ran")))
          expect(other._tag).toBe("Left")
        }
      }
      expect(yield* Fiber.join(tick)).toBe("done")
      expect(state.renewals).toBeGreaterThanOrEqual(7)
      expect(state.lease).toBeNull()
      expect(yield* lease.withLease("tick-2", 60_000, Effect.succeed("ran"))).toBe("ran")
    }))

  it.effect("a holder whose lease was taken while it ran is interrupted with LeaseLost", () =>
    Effect.gen(function*() {
      const { state, object, advance } = leaseObject()
      const lease = SyncLease.make(object)
      let finished = false
      const tick = yield* Effect.fork(lease.withLease("tick-1", 60_000, Effect.sleep("150 seconds").pipe(Effect.tap(() => (finished = true)))))
      yield* advance(10_000)
      // Another writer holds it now (as after a pause of the whole isolate longer than the lease).
      state.lease = { holder: "tick-2", expiresAt: state.now + 60_000 }
      yield* advance(20_000)
      const exit = yield* Fiber.await(tick)
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined).toBeInstanceOf(SyncLease.LeaseLost)
      expect(finished).toBe(false)
      expect(state.lease.holder).toBe("tick-2")
    }))
})
