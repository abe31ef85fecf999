// The deadline holds for the whole tick: the fold, the reading of the delta and the flush stop
// starting new work at it, and what they leave is carried to the next tick with nothing lost.
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Exit, Fiber, Option, TestClock } from "effect"
import fc from "fast-check"
import type { StateStoreService } from "../../../core/ports/StateStore.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { makeRateLimiterMemory } from "../../../core/ports/RateLimiterMemory.js"
import type { TickSummary } from "../../../core/5-tick/Tick.js"
import { type Api, event, harness, settings, slowShardStore } from "./TickHarness.js"

/** Every read or write of ledger shards takes a second of test time (slowShardStore), every Marketo call one too. */
const slowStore = slowShardStore
const slowApi = (api: Api): Api =>
  Object.fromEntries(
    Object.entries(api).map(([name, f]) => [name, (...args: Array<unknown>) => Effect.zipRight(Effect.sleep("1 second"), (f as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))])
  ) as unknown as Api

/** The longest piece of work that may have started just before the deadline: a shard pair read and written. */
const oneStepMillis = 2_000

type H = Effect.Effect.Success<ReturnType<typeof harness>>

/** One tick with `budget` ms of test time (`foldBudget` of it for the fold); the test time it took. */
const timedTick = (h: H, budget: number, foldBudget = budget) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(Effect.exit(h.tick({ ...settings, deadline: start + budget, foldDeadline: start + foldBudget })))
    // Time moves to the next wake-up the tick waits for: the elapsed time is exact, not rounded to a step.
    for (;;) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      const next = Chunk.reduce(yield* TestClock.sleeps(), Number.POSITIVE_INFINITY, (a, b) => Math.min(a, b))
      if (next === Number.POSITIVE_INFINITY) yield* Effect.yieldNow()
      else yield* TestClock.adjust(Math.max(0, next - (yield* Clock.currentTimeMillis)))
    }
    const exit = yield* Fiber.join(fiber)
    return { exit, elapsed: (yield* Clock.currentTimeMillis) - start }
  })

const members = (n: number, from = 0) => Array.from({ length: n }, (_, i) => event("vip", `u${from + i}`, [`u${from + i}@example.com`], true))

describe("Sync: the deadline covers the fold and the flush", () => {
  it.effect("a fold past the deadline keeps the changes it did not fold in the inbox, and the next ticks fold them", () =>
    Effect.gen(function*() {
      const h = yield* harness(undefined, slowStore, slowApi)
      yield* h.send(members(200))
      // 200 emails fall in all 64 shards: 32 pairs of two seconds each; the budget allows a few.
      const first = yield* timedTick(h, 5_000)
      expect(Exit.isSuccess(first.exit)).toBe(true)
      const summary = (first.exit as Exit.Success<TickSummary, never>).value
      expect(first.elapsed).toBeLessThanOrEqual(5_000 + oneStepMillis)
      expect(summary.changesFolded).toBeGreaterThan(0)
      expect(summary.changesFolded).toBeLessThan(200)
      expect(summary.stoppedBy).toBe("deadline")
      expect((yield* h.control.state).calls).toBe(0)
      // The original entry is gone; what was left waits in a new one.
      const inbox = yield* h.inner.list(StateKeys.inboxPrefix)
      expect(inbox).toHaveLength(1)
      let folded = summary.changesFolded
      for (let i = 0; i < 40 && (yield* h.inner.list(StateKeys.inboxPrefix)).length > 0; i++) {
        const next = yield* timedTick(h, 5_000)
        expect(next.elapsed).toBeLessThanOrEqual(5_000 + oneStepMillis)
        folded += (next.exit as Exit.Success<TickSummary, never>).value.changesFolded
      }
      expect(folded).toBe(200)
      for (let i = 0; i < 40 && (yield* h.control.members("vip")).length < 200; i++) yield* timedTick(h, 30_000)
      expect(yield* h.control.members("vip")).toHaveLength(200)
    }), { timeout: 60_000 })

  it.effect("a fold stopped at its own, earlier deadline leaves the rest of the tick to the sync", () =>
    Effect.gen(function*() {
      const h = yield* harness(undefined, slowStore, slowApi)
      yield* h.send(members(200))
      // The changes have waited the latency target: the audience is due however much waits unfolded.
      yield* TestClock.adjust("5 minutes")
      // Folding all 64 shards would take about a minute; the fold may take 10 s of the 60 s tick.
      const { elapsed, exit } = yield* timedTick(h, 60_000, 10_000)
      const summary = Exit.getOrElse(exit, () => expect.fail("the tick failed"))
      expect(elapsed).toBeLessThanOrEqual(60_000 + oneStepMillis)
      expect(summary.changesFolded).toBeGreaterThan(0)
      expect(summary.changesFolded).toBeLessThan(200)
      // In the same tick, what was folded is synced: the list exists and holds members.
      expect(summary.calls).toBeGreaterThan(0)
      expect((yield* h.control.members("vip")).length).toBeGreaterThan(0)
    }), { timeout: 60_000 })

  it.effect("removals past the deadline: what the delta, the steps and the flush leave is done by the next ticks", () =>
    Effect.gen(function*() {
      const h = yield* harness(undefined, slowStore, slowApi)
      yield* h.send(members(120))
      yield* timedTick(h, 1_000_000_000) // fold, plan and sync all 120 (every shard read and written)
      expect(yield* h.control.members("vip")).toHaveLength(120)
      // 60 leave: their removal touches most shards. The fold takes about a minute of (test) time;
      // a deadline of 70 s leaves the delta, the steps and the flush a few seconds.
      yield* h.send(Array.from({ length: 60 }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], false)))
      const stopped = yield* timedTick(h, 70_000)
      expect(stopped.elapsed).toBeLessThanOrEqual(70_000 + oneStepMillis + 1_000)
      const journal = yield* h.inner.list("aud/vip/journal/")
      const summary = (stopped.exit as Exit.Success<TickSummary, never>).value
      if (summary.audiences[0]?.removed === 60) {
        // Marketo holds the removals; the flush wrote only some shards, the rest is carried.
        expect(yield* h.control.members("vip")).toHaveLength(60)
        expect(journal.length).toBeGreaterThan(0)
      }
      // Later ticks apply what was carried: the ledger agrees with the list, and nothing is left.
      for (let i = 0; i < 20; i++) {
        const t = yield* timedTick(h, 1_000_000_000)
        const s = (t.exit as Exit.Success<TickSummary, never>).value
        if (s.inboxFolded === 0 && s.audiences.every((a) => a.stepsDone === 0)) break
      }
      expect(yield* h.control.members("vip")).toHaveLength(60)
      expect(yield* h.inner.list("aud/vip/journal/")).toEqual([])
      const record = JSON.parse(Option.getOrThrow(yield* h.inner.get("aud/vip"))) as { shards: Record<string, { synced: number; pendingAdd: number; pendingRemove: number }> }
      const counts = Object.values(record.shards)
      expect(counts.reduce((n, c) => n + c.synced, 0)).toBe(60)
      expect(counts.reduce((n, c) => n + c.pendingAdd + c.pendingRemove, 0)).toBe(0)
    }), { timeout: 60_000 })

  it.effect.prop(
    "whatever the deadlines and wherever a tick is killed, every tick ends by its deadline plus one step and the list ends exact",
    [
      fc.array(fc.record({ user: fc.integer({ min: 0, max: 59 }), member: fc.boolean() }), { minLength: 1, maxLength: 80 }),
      fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 12 }),
      fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined })
    ],
    ([facts, budgets, killAt]) =>
      Effect.gen(function*() {
        const writes = { n: 0 }
        const killing = (s: StateStoreService): StateStoreService => {
          const inner = slowStore(s)
          const gate = <A, E>(key: string, effect: Effect.Effect<A, E>) =>
            Effect.suspend(() => (!key.startsWith(StateKeys.inboxPrefix) && ++writes.n === killAt ? Effect.interrupt : effect))
          return {
            ...inner,
            set: (key, value) => gate(key, inner.set(key, value)),
            setMany: (entries) => gate(entries[0]?.[0] ?? "", inner.setMany(entries)),
            remove: (keys) => gate(keys[0] ?? "", inner.remove(keys))
          }
        }
        const h = yield* harness(undefined, killing, slowApi)
        const events = facts.map((f) => event("vip", `u${f.user}`, [`u${f.user}@example.com`], f.member))
        for (let i = 0; i < events.length; i += 20) yield* h.send(events.slice(i, i + 20))
        for (const budget of budgets) {
          const t = yield* timedTick(h, budget)
          // A Marketo call, or a pair of shards, may have started just before the deadline.
          if (Exit.isSuccess(t.exit)) expect(t.elapsed).toBeLessThanOrEqual(budget + oneStepMillis + 1_000)
        }
        for (let i = 0; i < 30; i++) {
          const t = yield* timedTick(h, 1_000_000_000)
          if (Exit.isSuccess(t.exit) && t.exit.value.inboxFolded === 0 && t.exit.value.audiences.every((a) => a.stepsDone === 0 && a.error === undefined)) break
        }
        const latest = new Map<number, boolean>()
        for (const f of facts) latest.set(f.user, f.member)
        const expected = [...latest].filter(([, m]) => m).map(([u]) => `u${u}@example.com`).sort()
        expect(yield* h.control.members("vip")).toEqual(expected)
        expect(yield* h.inner.list(StateKeys.inboxPrefix)).toEqual([])
        expect(yield* h.inner.list("aud/vip/journal/")).toEqual([])
      }),
    { fastCheck: { numRuns: 25 }, timeout: 120_000 }
  )

  it.effect("a step whose first call would wait for the rate window past the deadline is not started", () =>
    Effect.gen(function*() {
      const limiter = yield* makeRateLimiterMemory({ callsPerWindow: 5, windowMillis: 20_000, dailyQuota: 10_000, dailyReserve: 0 })
      const paced = (api: Api): Api =>
        Object.fromEntries(
          Object.entries(api).map(([name, f]) => [name, (...args: Array<unknown>) => limiter.withPermit((f as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))])
        ) as unknown as Api
      const h = yield* harness(undefined, undefined, paced)
      yield* h.send(["a1", "a2", "a3", "a4", "a5"].map((key) => event(key, "u1", ["x@example.com"], true)))
      const budget = { callsPerWindow: 5, windowMillis: 20_000 }
      const lists = () => Effect.forEach(["a1", "a2", "a3", "a4", "a5"], (k) => h.control.members(k))
      for (let i = 0; i < 10 && (yield* lists()).some((m) => m.length === 0); i++) {
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.fork(h.tick({ ...settings, budget, deadline: start + 25_000, foldDeadline: start + 25_000 }))
        while (Option.isNone(yield* Fiber.poll(fiber))) yield* TestClock.adjust("500 millis")
        yield* Fiber.join(fiber)
        // Five calls at once, five more 21 s later; the next would wait until 42 s: not started.
        expect((yield* Clock.currentTimeMillis) - start).toBeLessThanOrEqual(25_000)
        yield* TestClock.adjust("60 seconds")
      }
      for (const members of yield* lists()) expect(members).toEqual(["x@example.com"])
    }))
})
