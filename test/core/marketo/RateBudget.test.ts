import { describe, expect, it } from "@effect/vitest"
import { makeRateLimiterMemory } from "../../../core/ports/RateLimiterMemory.js"
import { Effect, Exit, Fiber, Ref, TestClock } from "effect"
import * as fc from "fast-check"
import * as RateBudget from "../../../core/marketo/RateBudget.js"
import { BudgetExhausted } from "../../../core/ports/RateLimiter.js"

// An independent oracle for US Central dates: the platform's time zone database.
const chicagoFormat = new Intl.DateTimeFormat("en-CA", {
  timeZone: "America/Chicago",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23"
})
const chicagoParts = (t: number) => {
  const parts = Object.fromEntries(chicagoFormat.formatToParts(t).map((p) => [p.type, p.value]))
  return { date: `${parts.year}-${parts.month}-${parts.day}`, time: `${parts.hour}:${parts.minute}` }
}

const small = RateBudget.makeRateBudgetConfig({
  callsPerWindow: 5,
  windowMillis: 20_000,
  maxConcurrency: 3,
  dailyQuota: 40,
  dailyReserve: 10,
  permitTtlMillis: 120_000
})

// Small limits, so that random sequences reach every one of them often.
const tiny = RateBudget.makeRateBudgetConfig({
  callsPerWindow: 4,
  windowMillis: 20_000,
  maxConcurrency: 2,
  dailyQuota: 12,
  dailyReserve: 4,
  permitTtlMillis: 120_000
})

describe("US Central time", () => {
  it("finds midnight across the DST changes", () => {
    // 2026: CDT from Sun 8 March 08:00 UTC to Sun 1 November 07:00 UTC.
    expect(RateBudget.nextChicagoMidnight(Date.UTC(2026, 2, 7, 12))).toBe(Date.UTC(2026, 2, 8, 6))
    expect(RateBudget.nextChicagoMidnight(Date.UTC(2026, 2, 8, 12))).toBe(Date.UTC(2026, 2, 9, 5))
    expect(RateBudget.nextChicagoMidnight(Date.UTC(2026, 9, 31, 12))).toBe(Date.UTC(2026, 10, 1, 5))
    expect(RateBudget.nextChicagoMidnight(Date.UTC(2026, 10, 1, 12))).toBe(Date.UTC(2026, 10, 2, 6))
    // 23:30 CST on 31 December is 05:30 UTC on 1 January.
    expect(RateBudget.chicagoDate(Date.UTC(2027, 0, 1, 5, 30))).toBe("2026-12-31")
    expect(RateBudget.nextChicagoMidnight(Date.UTC(2027, 0, 1, 5, 30))).toBe(Date.UTC(2027, 0, 1, 6))
  })

  it.prop("agrees with the time zone database", [fc.integer({ min: Date.UTC(2008, 0, 1), max: Date.UTC(2090, 0, 1) })], ([t]) => {
    expect(RateBudget.chicagoDate(t)).toBe(chicagoParts(t).date)
    const midnight = RateBudget.nextChicagoMidnight(t)
    expect(midnight).toBeGreaterThan(t)
    expect(midnight - t).toBeLessThanOrEqual(25 * 3_600_000)
    expect(chicagoParts(midnight).time).toBe("00:00")
    expect(chicagoParts(midnight - 1).date).toBe(chicagoParts(t).date)
  })
})

describe("RateBudget", () => {
  const t0 = Date.UTC(2026, 5, 10, 15)

  it("grants up to the window, then says when the window frees a slot", () => {
    let state = RateBudget.initialRateBudgetState
    for (let i = 0; i < 5; i++) {
      const r = RateBudget.acquire(small, state, t0 + i * 1000, `p${i}`)
      expect(r._tag).toBe("Granted")
      state = RateBudget.release(r.state, `p${i}`)
    }
    const blocked = RateBudget.acquire(small, state, t0 + 5000, "p5")
    // The window (20 s) plus the margin for the call's way to Marketo (1 s) after the first grant.
    expect(blocked).toMatchObject({ _tag: "Wait", retryAfterMillis: 15_000 + RateBudget.arrivalMarginMillis })
    expect(RateBudget.acquire(small, state, t0 + 20_000, "p5")._tag).toBe("Wait")
    expect(RateBudget.acquire(small, state, t0 + 20_000 + RateBudget.arrivalMarginMillis, "p5")._tag).toBe("Granted")
  })

  it("caps concurrency, and a lost permit expires", () => {
    let state = RateBudget.initialRateBudgetState
    for (let i = 0; i < 3; i++) {
      const r = RateBudget.acquire(small, state, t0, `p${i}`)
      expect(r._tag).toBe("Granted")
      state = r.state
    }
    expect(RateBudget.acquire(small, state, t0 + 1, "p3")._tag).toBe("Wait")
    expect(RateBudget.acquire(small, RateBudget.release(state, "p1"), t0 + 1, "p3")._tag).toBe("Granted")
    expect(RateBudget.acquire(small, state, t0 + 120_000, "p3")._tag).toBe("Granted")
  })

  it("a repeated acquire with a granted id spends nothing", () => {
    const first = RateBudget.acquire(small, RateBudget.initialRateBudgetState, t0, "same")
    const again = RateBudget.acquire(small, first.state, t0 + 5, "same")
    expect(again._tag).toBe("Granted")
    expect(RateBudget.status(small, again.state, t0 + 5)).toMatchObject({ usedToday: 1, usedInWindow: 1, inFlight: 1 })
  })

  it("keeps the daily reserve and resets at midnight US Central", () => {
    let state = RateBudget.initialRateBudgetState
    let now = t0
    for (let i = 0; i < 30; i++) {
      now += 5_000
      const r = RateBudget.acquire(small, state, now, `p${i}`)
      expect(r._tag).toBe("Granted")
      state = RateBudget.release(r.state, `p${i}`)
    }
    const refused = RateBudget.acquire(small, state, now + 60_000, "late")
    expect(refused).toMatchObject({ _tag: "Exhausted", reason: "daily-quota", resumesAt: Date.UTC(2026, 5, 11, 5) })
    expect(RateBudget.acquire(small, state, Date.UTC(2026, 5, 11, 5), "next-day")._tag).toBe("Granted")
  })

  it("606 pauses for a window, doubling on repeats, forgiven after a quiet window", () => {
    let state = RateBudget.signal(small, RateBudget.initialRateBudgetState, t0, "606")
    expect(RateBudget.acquire(small, state, t0 + 1000, "a")).toMatchObject({ _tag: "Wait", retryAfterMillis: 19_000 })
    state = RateBudget.signal(small, state, t0 + 1000, "615")
    expect(RateBudget.status(small, state, t0 + 1000).pausedUntil).toBe(t0 + 1000 + 40_000)
    expect(RateBudget.acquire(small, state, t0 + 41_000, "a")._tag).toBe("Granted")
    // A full window after the pause ended: the next 606 starts again at one window.
    state = RateBudget.signal(small, state, t0 + 61_000, "606")
    expect(RateBudget.status(small, state, t0 + 61_000).pausedUntil).toBe(t0 + 81_000)
  })

  it("607 stops calls until midnight US Central", () => {
    const state = RateBudget.signal(small, RateBudget.initialRateBudgetState, t0, "607")
    const midnight = Date.UTC(2026, 5, 11, 5)
    expect(RateBudget.acquire(small, state, t0 + 1, "a")).toMatchObject({
      _tag: "Exhausted",
      reason: "marketo-607",
      resumesAt: midnight
    })
    expect(RateBudget.acquire(small, state, midnight, "a")._tag).toBe("Granted")
  })

  type Op =
    | { readonly op: "acquire" }
    | { readonly op: "call" }
    | { readonly op: "release"; readonly pick: number }
    | { readonly op: "advance"; readonly millis: number }
    | { readonly op: "signal"; readonly code: RateBudget.SignalCode }
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.constant({ op: "acquire" as const }) },
    // A short call: acquire and release at once, so the window rather than concurrency is the limit.
    { weight: 8, arbitrary: fc.constant({ op: "call" as const }) },
    { weight: 3, arbitrary: fc.nat(20).map((pick) => ({ op: "release" as const, pick })) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 3_000 }).map((millis) => ({ op: "advance" as const, millis })) },
    {
      weight: 1,
      arbitrary: fc.oneof(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: 30 * 3_600_000 }))
        .map((millis) => ({ op: "advance" as const, millis }))
    },
    { weight: 1, arbitrary: fc.constantFrom<RateBudget.SignalCode>("606", "615", "607").map((code) => ({ op: "signal" as const, code })) }
  )

  it.prop(
    "never exceeds the window, the concurrency cap, or the daily quota less its reserve",
    [fc.array(opArb, { minLength: 20, maxLength: 300, size: "max" }), fc.integer({ min: Date.UTC(2025, 0, 1), max: Date.UTC(2030, 0, 1) })],
    ([ops, start]) => {
      let state = RateBudget.initialRateBudgetState
      let now = start
      let next = 0
      const grants: Array<number> = []
      // The test's own view of the held permits: granted, not released, not yet expired.
      let held: Array<{ id: string; grantedAt: number }> = []
      for (const step of ops) {
        if (step.op === "advance") now += step.millis
        else if (step.op === "signal") state = RateBudget.signal(tiny, state, now, step.code)
        else if (step.op === "release") {
          const permit = held[step.pick % Math.max(1, held.length)]
          if (permit !== undefined) {
            state = RateBudget.release(state, permit.id)
            held = held.filter((p) => p !== permit)
          }
        } else {
          const id = `p${next++}`
          const r = RateBudget.acquire(tiny, state, now, id)
          state = r.state
          if (r._tag === "Granted") {
            grants.push(now)
            if (step.op === "call") state = RateBudget.release(state, id)
            else held.push({ id, grantedAt: now })
          } else if (r._tag === "Wait") expect(r.retryAfterMillis).toBeGreaterThan(0)
          else expect(r.resumesAt).toBeGreaterThan(now)
        }
        held = held.filter((p) => p.grantedAt + tiny.permitTtlMillis > now)
        expect(held.length).toBeLessThanOrEqual(tiny.maxConcurrency)
        expect(RateBudget.status(tiny, state, now).inFlight).toBe(held.length)
      }
      for (const t of grants) {
        expect(grants.filter((g) => g > t - tiny.windowMillis && g <= t).length).toBeLessThanOrEqual(tiny.callsPerWindow)
      }
      const perDay = new Map<string, number>()
      for (const t of grants) perDay.set(chicagoParts(t).date, (perDay.get(chicagoParts(t).date) ?? 0) + 1)
      for (const count of perDay.values()) expect(count).toBeLessThanOrEqual(tiny.dailyQuota - tiny.dailyReserve)
    },
    { fastCheck: { numRuns: 300 } }
  )
})

describe("RateLimiterMemory", () => {
  it.effect("runs 120 calls inside the window and concurrency limits, driven by TestClock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 5, 10, 15))
      const limiter = yield* makeRateLimiterMemory({ callsPerWindow: 50, maxConcurrency: 5 })
      const running = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const starts = yield* Ref.make<ReadonlyArray<number>>([])
      const call = Effect.gen(function*() {
        const now = yield* TestClock.currentTimeMillis
        yield* Ref.update(starts, (s) => [...s, now])
        const n = yield* Ref.updateAndGet(running, (x) => x + 1)
        yield* Ref.update(peak, (p) => Math.max(p, n))
        yield* Effect.sleep(300)
        yield* Ref.update(running, (x) => x - 1)
      })
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 120 }, () => limiter.withPermit(call)), { concurrency: "unbounded" }))
      for (let i = 0; i < 70; i++) yield* TestClock.adjust(1_000)
      yield* Fiber.join(fiber)
      const times = yield* Ref.get(starts)
      expect(times.length).toBe(120)
      expect(yield* Ref.get(peak)).toBe(5)
      for (const t of times) expect(times.filter((g) => g > t - 20_000 && g <= t).length).toBeLessThanOrEqual(50)
      const status = yield* limiter.status
      expect(status.inFlight).toBe(0)
      expect(status.usedToday).toBe(120)
    }))

  it.effect("fails with BudgetExhausted after 607 and releases permits of failed calls", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 5, 10, 15))
      const limiter = yield* makeRateLimiterMemory()
      const failed = yield* Effect.exit(limiter.withPermit(Effect.fail("boom")))
      expect(Exit.isFailure(failed)).toBe(true)
      expect((yield* limiter.status).inFlight).toBe(0)
      yield* limiter.signal({ code: "607" })
      const error = yield* Effect.flip(limiter.withPermit(Effect.void))
      expect(error).toEqual(new BudgetExhausted({ reason: "marketo-607", resumesAt: Date.UTC(2026, 5, 11, 5) }))
    }))

  it.effect("an interrupted waiter takes no permit", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 5, 10, 15))
      const limiter = yield* makeRateLimiterMemory({ maxConcurrency: 1 })
      const holder = yield* Effect.fork(limiter.withPermit(Effect.never))
      yield* TestClock.adjust(10)
      const waiter = yield* Effect.fork(limiter.withPermit(Effect.void))
      yield* TestClock.adjust(500)
      yield* Fiber.interrupt(waiter)
      yield* Fiber.interrupt(holder)
      const status = yield* limiter.status
      expect(status.inFlight).toBe(0)
      expect(status.usedToday).toBe(1)
    }))
})
