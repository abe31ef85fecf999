// Shards split as an audience grows: each email lives in exactly one shard of the current layout,
// a split loses nothing, and a tick killed before any of its writes (a split's among them) resumes
// with the list exact and the ledger agreeing with it.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { readRecord } from "../../../core/2-ledger/AudienceShards.js"
import { childrenOf, shardOf } from "../../../core/2-ledger/Sharding.js"
import { layoutOf, splitPointOf } from "../../../core/2-ledger/ShardSplit.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import type { StateStoreService } from "../../../core/ports/StateStore.js"
import type { SyncSettings } from "../../../core/5-tick/SyncSettings.js"
import { event, harness, settings } from "./TickHarness.js"

const splitting: SyncSettings = { ...settings, splitAtEmails: 1 }

describe("ShardSplit: the layout", () => {
  it("a split shard's emails go to exactly its two children, and every shard number is used once", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 12 }), fc.array(fc.emailAddress(), { minLength: 1, maxLength: 50 }), (picks, addresses) => {
        // Grow a layout by splitting leaves picked at random.
        let splits: Array<number> = []
        const leaves = () => {
          const layout = layoutOf({ shardCount: 64, splits })
          const seen = new Set<number>()
          for (let n = 0; n < 64; n++) seen.add(n)
          const out: Array<number> = []
          const walk = (n: number): void => {
            if (!(typeof layout !== "number" && layout.splits.has(n))) return void out.push(n)
            for (const c of childrenOf(n, 64)) {
              expect(seen.has(c)).toBe(false)
              seen.add(c)
              walk(c)
            }
          }
          for (let n = 0; n < 64; n++) walk(n)
          return out
        }
        for (const p of picks) {
          const current = leaves()
          const parent = current[p % current.length]!
          const before = layoutOf({ shardCount: 64, splits })
          splits = [...splits, parent]
          const after = layoutOf({ shardCount: 64, splits })
          for (const a of addresses) {
            const email = a.toLowerCase() as Email
            const was = shardOf(email, before)
            const now = shardOf(email, after)
            if (was === parent) expect(childrenOf(parent, 64)).toContain(now)
            else expect(now).toBe(was)
          }
        }
        const all = new Set(leaves())
        for (const a of addresses) expect(all.has(shardOf(a.toLowerCase() as Email, layoutOf({ shardCount: 64, splits })))).toBe(true)
      }),
      { numRuns: 300 }
    )
  })
})

describe("ShardSplit: the split points", () => {
  it("lie between three quarters of the split size and all of it, spread over the shards of a level", () => {
    // The 256 shards a 10,000,000-member load has before its third level of splits: 256–511.
    const level = Array.from({ length: 256 }, (_, i) => 256 + i)
    const points = level.map((n) => splitPointOf(n, 32_000))
    for (const p of points) {
      expect(p).toBeGreaterThan(24_000)
      expect(p).toBeLessThanOrEqual(32_000)
    }
    // Each eighth of the range holds between a twentieth and a fifth of the shards.
    const eighths = Array.from({ length: 8 }, (_, k) => points.filter((p) => Math.min(7, Math.floor((32_000 - p) / 1_000)) === k).length)
    for (const n of eighths) {
      expect(n).toBeGreaterThanOrEqual(256 / 20)
      expect(n).toBeLessThanOrEqual(256 / 5)
    }
    // Split sizes of one to three emails (the tests') are left as they are.
    for (const n of level) expect([splitPointOf(n, 1), splitPointOf(n, 3)]).toEqual([1, 3])
  })
})

describe("ShardSplit: in the tick", () => {
  const script = (h: Effect.Effect.Success<ReturnType<typeof harness>>) =>
    Effect.gen(function*() {
      const quiet = Effect.gen(function*() {
        for (let i = 0; i < 40; i++) {
          const exit = yield* Effect.exit(h.tick(splitting))
          if (Exit.isSuccess(exit) && exit.value.inboxFolded === 0 && exit.value.audiences.every((a) => a.stepsDone === 0 && a.error === undefined)) return
        }
        throw new Error("not quiet in 40 ticks")
      })
      yield* h.send(Array.from({ length: 40 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], true)))
      yield* quiet
      yield* h.send(Array.from({ length: 16 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], false)))
      yield* quiet
      return yield* h.control.members("vip")
    })
  const expected = Array.from({ length: 24 }, (_, i) => `n${16 + i}@example.com`).sort()

  it.effect("an audience whose shards split ends with its list exact, and its record counts what the list holds", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      expect(yield* script(h)).toEqual(expected)
      const record = Option.getOrThrow(yield* h.provide(readRecord("vip" as AudienceKey)))
      expect(record.splits?.length ?? 0).toBeGreaterThan(2)
      const counts = Object.values(record.shards)
      expect(counts.reduce((n, c) => n + c.synced, 0)).toBe(24)
      expect(counts.reduce((n, c) => n + c.desired, 0)).toBe(24)
      // No key of a split shard is left: only the shards of the layout are stored.
      const stored = new Set((yield* h.inner.list("aud/vip/shard/")).map((k) => Number(k.split("/")[3])))
      for (const n of record.splits ?? []) expect(stored.has(n)).toBe(false)
    }))

  it.effect("a shard splits past its own split point, not before", () =>
    Effect.gen(function*() {
      // Emails of one shard whose split point (of 40) is at most 34.
      const byShard = new Map<number, Array<string>>()
      for (let i = 0; i < 20_000; i++) {
        const email = `u${i}@example.com`
        const n = shardOf(email as Email, 64)
        byShard.set(n, byShard.get(n) ?? []).get(n)!.push(email)
      }
      const [n, emails] = [...byShard].find(([n]) => splitPointOf(n, 40) <= 34)!
      const point = splitPointOf(n, 40)
      const h = yield* harness()
      const send = (from: number, to: number) => h.send(emails.slice(from, to).map((e) => event("vip", e, [e], true)))
      yield* send(0, point)
      yield* h.tick({ ...settings, splitAtEmails: 40 })
      expect(Option.getOrThrow(yield* h.provide(readRecord("vip" as AudienceKey))).splits ?? []).toEqual([])
      yield* send(point, point + 1)
      yield* h.tick({ ...settings, splitAtEmails: 40 })
      expect(Option.getOrThrow(yield* h.provide(readRecord("vip" as AudienceKey))).splits).toEqual([n])
    }))

  it.effect("a tick killed before any of its state writes, a split's included, resumes with nothing lost", () =>
    Effect.gen(function*() {
      const writes = { n: 0, crashAt: 0 }
      const isIngestWrite = (key: string) => key.startsWith(StateKeys.inboxPrefix) || key.startsWith(StateKeys.inboxSummaryPrefix)
      const counting = (s: StateStoreService): StateStoreService => {
        const gate = <A, E>(effect: Effect.Effect<A, E>) => Effect.suspend(() => (++writes.n === writes.crashAt ? Effect.interrupt : effect))
        return {
          ...s,
          set: (key, value) => (key.startsWith(StateKeys.inboxPrefix) ? s.set(key, value) : gate(s.set(key, value))),
          setMany: (entries) => (entries.every(([key]) => isIngestWrite(key)) ? s.setMany(entries) : gate(s.setMany(entries))),
          remove: (keys) => gate(s.remove(keys))
        }
      }
      const baseline = yield* harness(undefined, counting)
      expect(yield* script(baseline)).toEqual(expected)
      const total = writes.n
      const calls = (yield* baseline.control.state).calls
      for (let k = 1; k <= total; k++) {
        writes.n = 0
        writes.crashAt = k
        const crashed = yield* harness(undefined, counting)
        expect(yield* script(crashed)).toEqual(expected)
        expect((yield* crashed.control.state).calls).toBeLessThanOrEqual(calls + 3)
        expect(yield* crashed.inner.list(StateKeys.inboxPrefix)).toEqual([])
        expect(yield* crashed.inner.list("aud/vip/journal/")).toEqual([])
        const record = Option.getOrThrow(yield* crashed.provide(readRecord("vip" as AudienceKey)))
        const counts = Object.values(record.shards)
        expect(counts.reduce((n, c) => n + c.synced, 0)).toBe(24)
        expect(counts.reduce((n, c) => n + c.pendingAdd + c.pendingRemove, 0)).toBe(0)
      }
    }), { timeout: 120_000 })
})
