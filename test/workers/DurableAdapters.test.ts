import { env } from "cloudflare:test"
import { Effect, Option } from "effect"
import { describe, expect, it } from "vitest"
import * as DurableRateLimiter from "../../adapters/cloudflare/DurableRateLimiter.js"
import * as DurableTokenStore from "../../adapters/cloudflare/DurableTokenStore.js"
import * as SyncLease from "../../adapters/cloudflare/SyncLease.js"
import { BudgetExhausted, RateLimiter } from "../../core/ports/RateLimiter.js"

const stubFor = (name: string) => env.MARKETO_INSTANCE.get(env.MARKETO_INSTANCE.idFromName(name))

describe("DurableRateLimiter", () => {
  it("runs 40 concurrent calls within the concurrency cap and releases every permit", async () => {
    const stub = stubFor("limiter")
    let running = 0
    let peak = 0
    const call = Effect.gen(function*() {
      running++
      peak = Math.max(peak, running)
      yield* Effect.sleep("5 millis")
      running--
    })
    const program = Effect.gen(function*() {
      const limiter = yield* RateLimiter
      yield* Effect.all(Array.from({ length: 40 }, () => limiter.withPermit(call)), { concurrency: "unbounded" })
      return yield* limiter.status
    })
    const status = await Effect.runPromise(program.pipe(Effect.provide(DurableRateLimiter.layer(stub))))
    expect(peak).toBeLessThanOrEqual(Number(env.MARKETO_MAX_CONCURRENCY))
    expect(peak).toBeGreaterThan(1)
    expect(status.usedToday).toBe(40)
    expect(status.usedInWindow).toBe(40)
    expect(status.inFlight).toBe(0)
  })

  it("releases the permit of a failed call and stops on 607", async () => {
    const limiter = DurableRateLimiter.make(stubFor("limiter-607"))
    const failed = await Effect.runPromise(Effect.flip(limiter.withPermit(Effect.fail("boom" as const))))
    expect(failed).toBe("boom")
    expect((await Effect.runPromise(limiter.status)).inFlight).toBe(0)
    await Effect.runPromise(limiter.signal({ code: "607" }))
    const error = await Effect.runPromise(Effect.flip(limiter.withPermit(Effect.void)))
    expect(error).toBeInstanceOf(BudgetExhausted)
    expect(error).toMatchObject({ reason: "marketo-607" })
  })
})

describe("DurableTokenStore", () => {
  it("shares the token between stores on the same instance", async () => {
    const a = DurableTokenStore.make(stubFor("token-store"))
    const b = DurableTokenStore.make(stubFor("token-store"))
    expect(await Effect.runPromise(a.get)).toEqual(Option.none())
    await Effect.runPromise(a.set({ token: "abc", expiresAt: 42 }))
    expect(await Effect.runPromise(b.get)).toEqual(Option.some({ token: "abc", expiresAt: 42 }))
    await Effect.runPromise(b.clear("other"))
    expect(Option.isSome(await Effect.runPromise(a.get))).toBe(true)
    await Effect.runPromise(b.clear("abc"))
    expect(await Effect.runPromise(a.get)).toEqual(Option.none())
  })
})

describe("SyncLease", () => {
  it("runs the work holding the lease, refuses a second holder, and frees it afterwards", async () => {
    const lease = SyncLease.make(stubFor("sync-lease"))
    const refused = await Effect.runPromise(
      lease.withLease("tick-1", 60_000, Effect.flip(lease.withLease("tick-2", 60_000, Effect.succeed("ran"))))
    )
    expect(refused).toBeInstanceOf(SyncLease.LeaseHeld)
    expect(refused).toMatchObject({ holder: "tick-1" })
    expect(await Effect.runPromise(lease.withLease("tick-2", 60_000, Effect.succeed("ran")))).toBe("ran")
  })
})
