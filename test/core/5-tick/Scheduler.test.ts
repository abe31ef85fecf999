import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { type AudienceLoad, costAlone, defaultSchedulerSettings, listCalls, scheduleTick } from "../../../core/5-tick/Scheduler.js"

const now = Date.UTC(2026, 10, 20, 12)
const day = 24 * 3_600_000
type Over = { readonly [K in keyof AudienceLoad]?: AudienceLoad[K] | undefined }
const load = (key: string, over: Over = {}): AudienceLoad => {
  const { pendingSince = over.pendingSince === undefined && "pendingSince" in over ? undefined : now, ...rest } = over
  const base = { key: key as AudienceKey, pendingAdd: 1, pendingRemove: 0, unfinished: false, hasList: true, pendingImports: 0, ...rest } as Omit<AudienceLoad, "pendingSince">
  return pendingSince === undefined ? base : { ...base, pendingSince }
}

describe("Scheduler", () => {
  it("without a view of the quota, every audience with work goes: due work first, then the oldest", () => {
    const s = scheduleTick([
      load("fresh"),
      load("idle", { pendingAdd: 0, pendingSince: undefined }),
      load("old", { pendingSince: now - 60_000 }),
      load("overdue", { pendingSince: now - 10 * 60_000 }),
      load("polling", { pendingAdd: 0, pendingImports: 1, pendingSince: undefined })
    ], now, undefined)
    expect(s.audiences).toEqual(["overdue", "polling", "old", "fresh"])
    expect(s.deferred).toEqual([])
  })

  it("a quiet instance syncs a fresh change on the next tick", () => {
    const s = scheduleTick([load("vip")], now, { callsLeftToday: 45_000, resetsAt: now + day })
    expect(s.audiences).toEqual(["vip"])
    expect(s.honouredLatencyMillis).toBe(defaultSchedulerSettings.latencyTargetMillis)
  })

  it("a busy day batches: not-due work waits while the even share is spent, due work gets up to three shares", () => {
    // 2,880 calls for 1,440 ticks: 2 per tick evenly, 6 for due work.
    const quota = { callsLeftToday: 2_880, resetsAt: now + day }
    const fresh = Array.from({ length: 10 }, (_, i) => load(`a${i}`))
    const early = scheduleTick(fresh, now, quota)
    // The first costs its add and the shared upsert (2): the even share is spent, the rest wait.
    expect(early.audiences).toEqual(["a0"])
    expect(early.estimatedCalls).toBe(2)
    expect(early.audiences.length + early.deferred.length).toBe(10)
    const overdue = fresh.map((l) => ({ ...l, pendingSince: now - 8 * 60_000 }))
    const due = scheduleTick(overdue, now, quota)
    expect(due.estimatedCalls).toBeLessThanOrEqual(6)
    expect(due.audiences.length).toBe(5) // 1 upsert shared by all + 5 adds
    expect(due.honouredLatencyMillis).toBe(9 * 60_000)
  })

  it("while the inbox still holds unfolded changes, only due work goes: a big load waits to be imported whole", () => {
    const loads = [load("big", { pendingAdd: 60_000 }), load("fresh"), load("overdue", { pendingSince: now - 10 * 60_000 })]
    expect(scheduleTick(loads, now, undefined).audiences).toEqual(["overdue", "big", "fresh"])
    const waiting = scheduleTick(loads, now, undefined, defaultSchedulerSettings, true)
    expect(waiting.audiences).toEqual(["overdue"])
    expect(waiting.deferred).toEqual(["big", "fresh"])
  })

  it("counts upserts and lookups once per 300 emails across the audiences of a tick", () => {
    const s = scheduleTick([load("a", { pendingAdd: 150 }), load("b", { pendingAdd: 150 })], now, undefined)
    expect(s.estimatedCalls).toBe(listCalls(load("a", { pendingAdd: 150 })) * 2 + 1)
  })

  it("never plans past the day's calls, the tick's capacity or three even shares (one due audience excepted)", () => {
    const arbLoad = fc.record({
      key: fc.string({ minLength: 1, maxLength: 4 }),
      pendingAdd: fc.nat(5_000),
      pendingRemove: fc.nat(5_000),
      age: fc.option(fc.nat(3_600_000), { nil: undefined }),
      unfinished: fc.boolean(),
      hasList: fc.boolean(),
      pendingImports: fc.nat(3)
    })
    fc.assert(fc.property(fc.uniqueArray(arbLoad, { selector: (l) => l.key, maxLength: 30 }), fc.nat(50_000), fc.integer({ min: 60_000, max: day }), (raw, left, untilReset) => {
      const loads = raw.map(({ age, key, ...l }) => load(key, { ...l, pendingSince: age === undefined ? undefined : now - age }))
      const s = scheduleTick(loads, now, { callsLeftToday: left, resetsAt: now + untilReset })
      const even = left / Math.ceil(untilReset / 60_000)
      const cap = Math.min(left, defaultSchedulerSettings.tickCallCapacity, Math.max(3 * even, 1))
      const byKey = new Map(loads.map((l) => [l.key, l]))
      const firstAlone = s.audiences.length === 1 ? costAlone(byKey.get(s.audiences[0]!)!) : 0
      expect(s.estimatedCalls <= cap || s.estimatedCalls === firstAlone).toBe(true)
      if (left === 0) expect(s.audiences).toEqual([])
      // Every audience with work is either chosen or deferred, once.
      const waiting = loads.filter((l) => l.unfinished || l.pendingAdd + l.pendingRemove > 0 || l.pendingImports > 0).map((l) => l.key)
      expect([...s.audiences, ...s.deferred].sort()).toEqual([...waiting].sort())
    }))
  })
})
