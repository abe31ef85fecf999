// The RateLimiter contract (core/ports/RateLimiter.ts): whatever the runtime, the budget of
// core/marketo/RateBudget.ts holds for every caller of one Marketo instance: no more call starts
// than the window allows, no more calls in flight than the cap, no more calls a day than the quota
// less its reserve, and Marketo's 606/615/607 pause everyone. Every case opens a fresh budget with
// the limits it names (windows of a few hundred milliseconds, so the cases take about a second);
// `second` draws from the same budget (another process or invocation), and the cases spread their
// calls over both. Times are measured by the runtime's clock around each call.
import { Clock, Effect, Fiber, type Scope } from "effect"
import { type RateBudgetConfig, arrivalMarginMillis, makeRateBudgetConfig, nextChicagoMidnight } from "../../core/marketo/RateBudget.js"
import { BudgetExhausted, type RateLimiter } from "../../core/ports/RateLimiter.js"
import { check, type ContractCase, equal, failureOf } from "./Contract.js"

type Limiter = RateLimiter["Type"]

export interface RateLimiterHarness {
  readonly open: (config: RateBudgetConfig) => Effect.Effect<{ readonly limiter: Limiter; readonly second: Limiter }, unknown, Scope.Scope>
}

type Case = ContractCase<RateLimiterHarness>

const limits = (overrides: Partial<RateBudgetConfig>) =>
  makeRateBudgetConfig({ callsPerWindow: 50, windowMillis: 300, maxConcurrency: 10, dailyQuota: 10_000, dailyReserve: 0, ...overrides })

/** A call that notes when it started. */
const startedAt = (starts: Array<number>) => Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => void starts.push(t)))

const window: Case = {
  name: "never more call starts than callsPerWindow in a window, for callers on both handles; the rest start once it rolls",
  run: (h) =>
    Effect.gen(function*() {
      const config = limits({ callsPerWindow: 4 })
      const { limiter, second } = yield* h.open(config)
      const starts: Array<number> = []
      const issued = yield* Clock.currentTimeMillis
      const calls = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 7 }, (_, i) => (i % 2 === 0 ? limiter : second)), (l) => l.withPermit(startedAt(starts)), {
          concurrency: "unbounded"
        })
      )
      // Well before the window and its arrival margin have passed.
      yield* Effect.sleep(2 * config.windowMillis)
      equal(starts.length, 4, "calls started within the first window")
      const status = yield* second.status
      equal(
        [status.callsPerWindow, status.windowMillis, status.usedInWindow, status.usedToday],
        [4, config.windowMillis, 4, 4],
        "status while the window is full (limit, window, used in window, used today)"
      )
      yield* Fiber.join(calls)
      equal(starts.length, 7, "every call ran once the window rolled")
      const sorted = [...starts].sort((a, b) => a - b)
      for (const t of sorted) {
        const inSpan = sorted.filter((u) => u >= t && u < t + config.windowMillis).length
        check(inSpan <= 4, `${inSpan} call starts within ${config.windowMillis} ms`, sorted.map((u) => u - sorted[0]!))
      }
      // No call was granted before the calls were made, and the fifth waits the window plus
      // Marketo's arrival margin (less a timer's slack) after the first grant.
      check(sorted[4]! >= issued + config.windowMillis + arrivalMarginMillis - 20, "the fifth call started before the window rolled", sorted.map((u) => u - issued))
    })
}

const concurrency: Case = {
  name: "never more calls in flight than maxConcurrency; every permit is returned",
  run: (h) =>
    Effect.gen(function*() {
      const { limiter, second } = yield* h.open(limits({ maxConcurrency: 2 }))
      let running = 0
      let peak = 0
      const call = Effect.gen(function*() {
        running++
        peak = Math.max(peak, running)
        yield* Effect.sleep("40 millis")
        running--
      })
      yield* Effect.forEach(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? limiter : second)), (l) => l.withPermit(call), {
        concurrency: "unbounded"
      })
      check(peak <= 2, `${peak} calls ran at once under a cap of 2`)
      const status = yield* limiter.status
      equal([status.maxConcurrency, status.inFlight, status.usedToday], [2, 0, 8], "status after (cap, in flight, used today)")
    })
}

const permitsReturned: Case = {
  name: "a permit is returned when its call fails, dies or is interrupted, and by a caller interrupted while it waits",
  run: (h) =>
    Effect.gen(function*() {
      const { limiter, second } = yield* h.open(limits({ maxConcurrency: 1 }))
      equal(yield* failureOf(limiter.withPermit(Effect.fail("boom" as const)), "a failing call"), "boom", "the call's own error")
      yield* Effect.exit(limiter.withPermit(Effect.die("defect")))
      equal((yield* limiter.status).inFlight, 0, "in flight after a failure and a defect")
      const holder = yield* Effect.fork(limiter.withPermit(Effect.never))
      yield* Effect.sleep("50 millis")
      equal((yield* second.status).inFlight, 1, "in flight while a call runs")
      const waiter = yield* Effect.fork(second.withPermit(Effect.void))
      yield* Effect.sleep("150 millis")
      yield* Fiber.interrupt(waiter)
      equal((yield* limiter.status).inFlight, 1, "in flight after interrupting a waiting caller")
      yield* Fiber.interrupt(holder)
      equal((yield* second.status).inFlight, 0, "in flight after interrupting the running call")
      let ran = false
      yield* second.withPermit(Effect.sync(() => (ran = true)))
      check(ran, "a call after the interruptions did not run")
    })
}

const dailyQuota: Case = {
  name: "no more calls a day than the quota less its reserve; then BudgetExhausted until midnight US Central",
  run: (h) =>
    Effect.gen(function*() {
      const { limiter, second } = yield* h.open(limits({ dailyQuota: 5, dailyReserve: 2 }))
      let ran = 0
      const call = Effect.sync(() => void ran++)
      for (const l of [limiter, second, limiter]) yield* l.withPermit(call)
      const before = yield* Clock.currentTimeMillis
      const error = yield* failureOf(second.withPermit(call), "the fourth call of a 5-call quota with a reserve of 2")
      const after = yield* Clock.currentTimeMillis
      check(error instanceof BudgetExhausted && error.reason === "daily-quota", "the refusal", error)
      const resumesAt = (error as BudgetExhausted).resumesAt
      check([nextChicagoMidnight(before), nextChicagoMidnight(after)].includes(resumesAt), "resumes at the next midnight US Central", resumesAt)
      equal(ran, 3, "calls run")
      const status = yield* limiter.status
      equal([status.dailyQuota, status.dailyReserve, status.usedToday], [5, 2, 3], "status (quota, reserve, used today)")
    })
}

const ratePause: Case = {
  name: "606 and 615 pause every caller for a window, twice as long when repeated",
  run: (h) =>
    Effect.gen(function*() {
      // A window of a second: the repeated signal must reach the limiter within a window of the
      // first pause's end, which a loaded machine may delay by a few hundred milliseconds.
      const config = limits({ windowMillis: 1_000 })
      const { limiter, second } = yield* h.open(config)
      const signalled = yield* Clock.currentTimeMillis
      yield* limiter.signal({ code: "606" })
      const answered = yield* Clock.currentTimeMillis
      const paused = (yield* second.status).pausedUntil
      check(paused >= signalled + config.windowMillis && paused <= answered + config.windowMillis, "paused for one window", [signalled, paused, answered])
      const starts: Array<number> = []
      yield* second.withPermit(startedAt(starts))
      check(starts[0]! >= paused - 20, "a call started during the pause", paused - starts[0]!)
      // Again within a window of the first pause: the strike doubles it.
      const again = yield* Clock.currentTimeMillis
      yield* second.signal({ code: "615" })
      const longer = (yield* limiter.status).pausedUntil
      check(longer >= again + 2 * config.windowMillis, "a repeated signal doubles the pause", longer - again)
      yield* limiter.withPermit(startedAt(starts))
      check(starts[1]! >= longer - 20, "a call started during the second pause", longer - starts[1]!)
    })
}

const quotaSignal: Case = {
  name: "607 stops every caller until midnight US Central, without running the call",
  run: (h) =>
    Effect.gen(function*() {
      const { limiter, second } = yield* h.open(limits({}))
      const before = yield* Clock.currentTimeMillis
      yield* limiter.signal({ code: "607" })
      let ran = false
      for (const l of [limiter, second]) {
        const error = yield* failureOf(l.withPermit(Effect.sync(() => (ran = true))), "a call after 607")
        check(error instanceof BudgetExhausted && error.reason === "marketo-607", "the refusal", error)
        check((error as BudgetExhausted).resumesAt === nextChicagoMidnight(before) || (error as BudgetExhausted).resumesAt === nextChicagoMidnight(before + 1_000), "resumes at midnight US Central", error)
      }
      check(!ran, "a call ran after 607")
      check((yield* second.status).pausedUntil >= nextChicagoMidnight(before), "status shows the pause")
    })
}

export const rateLimiterContract: ReadonlyArray<Case> = [window, concurrency, permitsReturned, dailyQuota, ratePause, quotaSignal]
