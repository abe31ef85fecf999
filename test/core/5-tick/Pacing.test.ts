// How a tick spends its calls: rate limits, the daily quota, the delta caps, calls shared between audiences, pacing.
import { describe, expect, it } from "@effect/vitest"
import { makeRateLimiterMemory } from "../../../core/ports/RateLimiterMemory.js"
import fc from "fast-check"
import { Clock, Effect, Fiber, Option, TestClock } from "effect"
import { getAudience } from "../../../core/5-tick/AudienceStatus.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { MarketoQuotaExhausted, MarketoRateLimited, MarketoTransient } from "../../../core/marketo/MarketoErrors.js"
import { BudgetExhausted } from "../../../core/ports/RateLimiter.js"
import type { SyncSettings } from "../../../core/5-tick/SyncSettings.js"
import { type Api, event, harness, settings } from "./TickHarness.js"

describe("Sync: budget, quota and caps", () => {
  it.effect("a rate limit stops only that audience; a spent quota stops the tick; both resume later", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([event("alpha", "u1", ["a@example.com"], true), event("beta", "u1", ["a@example.com"], true), event("gamma", "u1", ["a@example.com"], true)])
      yield* h.control.failNext(new MarketoRateLimited({ code: "606", message: "Max rate limit exceeded", retryAfterMillis: 20_000 }))
      const limited = yield* h.tick()
      expect(limited.stoppedBy).toBeUndefined()
      expect(limited.audiences.map((a) => [a.audience, a.error?.code])).toEqual([["alpha", "606"], ["beta", undefined], ["gamma", undefined]])
      expect(yield* h.control.members("alpha")).toEqual([])
      expect(yield* h.control.members("gamma")).toEqual(["a@example.com"])
      yield* h.send([event("beta", "u2", ["b@example.com"], true), event("gamma", "u2", ["b@example.com"], true)])
      yield* h.control.failNext(new MarketoQuotaExhausted({ code: "607", message: "Daily quota reached" }))
      // The 607 answers the upsert beta and gamma share: the tick stops before any audience's steps.
      const spent = yield* h.tick()
      expect(spent.stoppedBy).toBe("quota")
      expect(spent.sharedCalls).toBe(1)
      expect(spent.audiences).toEqual([])
      yield* h.control.failNext(new BudgetExhausted({ reason: "daily-quota", resumesAt: 0 }))
      expect((yield* h.tick()).stoppedBy).toBe("quota")
      yield* h.untilQuiet
      for (const list of ["alpha"]) expect(yield* h.control.members(list)).toEqual(["a@example.com"])
      for (const list of ["beta", "gamma"]) expect(yield* h.control.members(list)).toEqual(["a@example.com", "b@example.com"])
      const healed = Option.getOrThrow(yield* h.provide(getAudience("alpha" as AudienceKey)))
      expect(healed.lastError).toBeUndefined()
      expect(healed.lastSync?.outcome).toBe("ok")
    }))

  it.effect("reads shards only while the delta caps leave room, and syncs a capped audience over several ticks", () =>
    Effect.gen(function*() {
      const reads: Array<string> = []
      const h = yield* harness(undefined, (s) => ({
        ...s,
        getMany: (keys) => Effect.zipRight(Effect.sync(() => reads.push(...keys.filter((k) => k.includes("/shard/")))), s.getMany(keys))
      }))
      yield* h.send(Array.from({ length: 300 }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
      yield* h.tick({ ...settings, deadline: 0 }) // fold only
      reads.length = 0
      const capped = { ...settings, deltaLimits: { maxAdds: 20, maxRemoves: 30_000 } }
      const first = yield* h.tick(capped)
      expect(first.audiences[0]?.added).toBeGreaterThanOrEqual(20)
      expect(first.audiences[0]?.added).toBeLessThan(40)
      // Of the 64 shards the 300 emails fall in, the few the capped delta needs: read to collect
      // it, and once more at the end to write the plan's effects into them.
      expect(reads.length).toBeLessThan(16)
      for (let i = 0; i < 30 && (yield* h.control.members("vip")).length < 300; i++) yield* h.tick(capped)
      expect((yield* h.control.members("vip")).length).toBe(300)
    }))
  it.effect.prop(
    "any order, any batching, redeliveries, failed calls and killed ticks: the list ends as the latest word of each user says",
    [
      fc.array(
        fc.record({
          user: fc.constantFrom("u1", "u2", "u3"),
          email: fc.constantFrom("a@example.com", "b@example.com", "c@example.com", "d@example.com"),
          member: fc.boolean(),
          timestamp: fc.integer({ min: 0, max: 6 })
        }),
        { minLength: 1, maxLength: 25 }
      ),
      fc.array(fc.nat(), { maxLength: 25 }),
      fc.array(fc.record({ call: fc.integer({ min: 1, max: 12 }), crash: fc.boolean() }), { maxLength: 4 })
    ],
    ([facts, order, failAt]) =>
      Effect.gen(function*() {
        const events = facts.map((f, i) => ({
          type: "identify",
          userId: f.user,
          messageId: `p${String(i).padStart(3, "0")}`,
          timestamp: new Date(Date.UTC(2026, 10, 20) + f.timestamp * 1000).toISOString(),
          traits: { email: f.email, vip: f.member },
          context: { personas: { computation_key: "vip", computation_class: "audience" } }
        }))
        // Deliveries: every event once in a shuffled order, some again; a tick between batches.
        const deliveries = [...events.map((e, i) => ({ e, k: order[i] ?? i })), ...order.map((k) => ({ e: events[k % events.length]!, k: k + 1 }))]
          .sort((a, b) => a.k - b.k)
          .map((d) => d.e)
        const h = yield* harness()
        for (const { call, crash } of failAt) {
          yield* (crash ? h.control.crashAtCall(call) : h.control.failCall(call, new MarketoTransient({ code: "604", message: "timeout" })))
        }
        for (let i = 0; i < deliveries.length; i += 4) {
          yield* h.send(deliveries.slice(i, i + 4))
          yield* Effect.exit(h.tick())
        }
        yield* h.untilQuiet
        // The model: per (user, email), the latest event (time, then message id) decides.
        const latest = new Map<string, (typeof facts)[number] & { id: string }>()
        facts.forEach((f, i) => {
          const id = `p${String(i).padStart(3, "0")}`
          const key = `${f.user} ${f.email}`
          const prev = latest.get(key)
          if (prev === undefined || f.timestamp > prev.timestamp || (f.timestamp === prev.timestamp && id > prev.id)) latest.set(key, { ...f, id })
        })
        const expected = [...new Set([...latest.values()].filter((f) => f.member).map((f) => f.email))].sort()
        expect(yield* h.control.members("vip")).toEqual(expected)
      }),
    { fastCheck: { numRuns: 200 }, timeout: 60_000 }
  )
  it.effect("paced by the rate budget, a tick does what the window allows before its deadline, and the daily quota stops it", () =>
    Effect.gen(function*() {
      // The Marketo client takes a permit for every call; here the in-memory port does the same.
      const limiter = yield* makeRateLimiterMemory({ callsPerWindow: 5, windowMillis: 20_000, dailyQuota: 12, dailyReserve: 0 })
      const paced = (api: Api): Api =>
        Object.fromEntries(
          Object.entries(api).map(([name, f]) => [name, (...args: Array<unknown>) => limiter.withPermit((f as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))])
        ) as unknown as Api
      const h = yield* harness(undefined, undefined, paced)
      yield* h.send(["a1", "a2", "a3", "a4"].map((key) => event(key, "u1", ["x@example.com"], true)))
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(h.tick({ ...settings, deadline: start + 25_000 }))
      yield* TestClock.adjust("60 seconds")
      const first = yield* Fiber.join(fiber)
      // a1 takes 4 calls (folder, list, upsert, add), the others 3 (the folder is cached): 5 go in
      // the first window, 5 at 20 s, and the step a4 started at 20 s waits for its call until 40 s.
      // No step starts after the deadline (25 s).
      expect(first.stoppedBy).toBe("deadline")
      expect((yield* h.control.state).calls).toBe(11)
      expect((yield* limiter.status).usedToday).toBe(11)
      expect(yield* h.control.members("a3")).toEqual(["x@example.com"])
      expect(yield* h.control.members("a4")).toEqual([])
      // The next tick has 1 call left today: a4's upsert; its add finds the quota spent.
      const next = yield* Effect.fork(h.tick({ ...settings, deadline: Number.MAX_SAFE_INTEGER }))
      yield* TestClock.adjust("60 seconds")
      const second = yield* Fiber.join(next)
      expect(second.stoppedBy).toBe("quota")
      expect((yield* h.control.state).calls).toBe(12)
      expect(second.audiences.at(-1)?.error).toMatchObject({ tag: "BudgetExhausted", code: "quota" })
    }))
})

describe("Sync: calls shared between audiences, and the scheduler", () => {
  const lists = ["s1", "s2", "s3", "s4", "s5"]

  it.effect("one upsert serves every list a new user enters; one lookup every list a known user leaves", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      // The lists exist first (created with one member each).
      yield* h.send(lists.map((a) => event(a, "seed", ["seed@example.com"], true)))
      yield* h.untilQuiet
      const before = (yield* h.control.state).calls
      yield* h.send(lists.map((a) => event(a, "u1", ["new@example.com"], true)))
      const entered = yield* h.tick()
      // Without sharing: 5 upserts + 5 adds. Shared: 1 upsert + 5 adds.
      expect(entered.sharedCalls).toBe(1)
      expect(entered.calls).toBe(6)
      expect((yield* h.control.state).calls - before).toBe(6)
      for (const a of lists) expect(yield* h.control.members(a)).toEqual(["new@example.com", "seed@example.com"])
      // Ids known from the upsert: leaving costs only the removals.
      yield* h.send(lists.map((a) => event(a, "u1", ["new@example.com"], false)))
      const known = yield* h.tick()
      expect(known.sharedCalls).toBe(0)
      expect(known.calls).toBe(5)
      for (const a of lists) expect(yield* h.control.members(a)).toEqual(["seed@example.com"])
    }))

  it.effect("one lookup serves every list a user leaves when the lists were filled by import", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      // 400 members per list arrive by bulk import, which tells no lead ids.
      yield* h.send(lists.flatMap((a) => Array.from({ length: 400 }, (_, i) => event(a, `u${i}`, [`user${i}@example.com`], true))))
      yield* h.untilQuiet
      expect(yield* h.control.members("s3")).toHaveLength(400)
      yield* h.send(lists.map((a) => event(a, "u7", ["user7@example.com"], false)))
      const left = yield* h.tick()
      // Without sharing: 5 lookups + 5 removals.
      expect(left.sharedCalls).toBe(1)
      expect(left.calls).toBe(6)
      for (const a of lists) expect(yield* h.control.members(a)).not.toContain("user7@example.com")
      expect(yield* h.control.members("s5")).toHaveLength(399)
    }))

  it.effect("with a quota view, a busy day defers what is not due, and records how long changes wait", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send(lists.map((a) => event(a, "seed", ["seed@example.com"], true)))
      yield* h.untilQuiet
      yield* h.send(lists.map((a, i) => event(a, `u${i}`, [`u${i}@example.com`], true)))
      const now = yield* Clock.currentTimeMillis
      // 1,440 calls left for 1,440 minutes: one call per tick evenly, three for due work.
      const tight: SyncSettings = { ...settings, quota: { callsLeftToday: 1_440, resetsAt: now + 24 * 3_600_000 } }
      const first = yield* h.tick(tight)
      expect(first.audiences).toEqual([])
      expect(first.deferred).toHaveLength(5)
      const waiting = Option.getOrThrow(yield* h.provide(getAudience("s1" as AudienceKey)))
      expect(waiting.pendingSince).toBe(now)
      // Six minutes later the changes are overdue (5-minute target): up to three even shares go
      // to them, oldest first, and the status says the target cannot be honoured now.
      yield* TestClock.adjust("6 minutes")
      const due = yield* h.tick({ ...tight, quota: { ...tight.quota!, resetsAt: now + 24 * 3_600_000 } })
      expect(due.audiences.length).toBeGreaterThan(0)
      expect(due.audiences.length).toBeLessThan(5)
      expect(due.honouredLatencyMillis).toBe(7 * 60_000)
      const synced = Option.getOrThrow(yield* h.provide(getAudience(due.audiences[0]!.audience)))
      expect(synced.pendingSince).toBeUndefined()
      // Without a quota view everything left goes.
      const rest = yield* h.tick()
      expect(rest.deferred).toEqual([])
      for (const [i, a] of lists.entries()) expect(yield* h.control.members(a)).toEqual(["seed@example.com", `u${i}@example.com`])
    }))
})
