// One bulk import file carried across ticks: each tick stages its capped share of the adds as a
// part in the store and marks them, and the file is sent once nothing more waits (or it is full,
// or the latency target needs it). A stop at any Marketo call or any state write loses nothing and
// sends nothing twice unlooked-for; an email that leaves while staged ends off the list; a row the
// import refuses goes by upsert + add.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Option, TestClock } from "effect"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { getAudience } from "../../../core/5-tick/AudienceStatus.js"
import { listRecords } from "../../../core/5-tick/AudienceScan.js"
import type { SyncSettings } from "../../../core/5-tick/SyncSettings.js"
import type { StateStoreService } from "../../../core/ports/StateStore.js"
import { event, harness, namingCalls, settings } from "./TickHarness.js"

type Harness = Effect.Effect.Success<ReturnType<typeof harness>>

/** A tick reads at most 400 adds: 1,000 new members take three ticks to stage. */
const capped: SyncSettings = { ...settings, deltaLimits: { maxAdds: 400, maxRemoves: 30_000 } }
const members = (n: number) => Array.from({ length: n }, (_, i) => event("big", `u${i}`, [`user${i}@example.com`], true))
const everyone = (n: number) => Array.from({ length: n }, (_, i) => `user${i}@example.com`).sort()

/** Ticks a minute apart with the cap, until one does nothing and nothing is staged or in flight. */
const untilQuiet = (h: Harness, limit = 60) =>
  Effect.gen(function*() {
    for (let i = 0; i < limit; i++) {
      if (i > 0) yield* TestClock.adjust("1 minute")
      const exit = yield* Effect.exit(h.tick(capped))
      if (Exit.isFailure(exit)) continue
      const idle = exit.value.inboxFolded === 0 && exit.value.audiences.every((a) => a.stepsDone === 0 && a.error === undefined)
      const records = yield* Effect.orDie(h.provide(listRecords()))
      if (idle && records.every((r) => r.pendingImports.length === 0 && (r.imports ?? []).length === 0 && r.staged === undefined && r.stagedLeft === undefined)) return i + 1
    }
    throw new Error(`the sync did not become quiet in ${limit} ticks`)
  })

const stagedKeys = (h: Harness) => h.inner.list(StateKeys.stagedPrefix("big" as AudienceKey))
const record = (h: Harness) => Effect.map(h.provide(listRecords()), (rs) => rs.find((r) => r.key === "big"))

describe("Sync: one import file carried across ticks", () => {
  it.effect("stages each tick's share as a part, sends the file once when nothing more waits, polls it once", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      const h = yield* harness(undefined, undefined, namingCalls(names))
      yield* h.send(members(1_000))
      yield* h.tick(capped)
      // The list is made; about 400 rows (the cap, read shard by shard) staged as part 0, nothing sent.
      expect(names).toEqual(["findFolders", "createStaticList"])
      expect(yield* stagedKeys(h)).toHaveLength(1)
      const first = (yield* record(h))?.staged
      expect(first?.parts).toBe(1)
      expect(first?.rows).toBeGreaterThanOrEqual(400)
      expect(first?.rows).toBeLessThan(500)
      yield* TestClock.adjust("1 minute")
      yield* h.tick(capped)
      expect(names).toHaveLength(2)
      expect(yield* stagedKeys(h)).toHaveLength(2)
      const second = (yield* record(h))?.staged
      expect(second?.parts).toBe(2)
      expect(second?.rows).toBeGreaterThanOrEqual(800)
      expect(second?.rows).toBeLessThan(1_000)
      yield* TestClock.adjust("1 minute")
      yield* h.tick(capped)
      // The last 200 rows staged, nothing more waits: the whole file goes as one import.
      expect(names).toEqual(["findFolders", "createStaticList", "importCsv"])
      expect(yield* stagedKeys(h)).toEqual([])
      const sent = yield* record(h)
      expect(sent?.staged).toBeUndefined()
      expect(sent?.imports).toMatchObject([{ rows: 1_000 }])
      yield* untilQuiet(h)
      expect(yield* h.control.members("big")).toEqual(everyone(1_000))
      expect(names).toEqual(["findFolders", "createStaticList", "importCsv", "importStatus"])
      const big = Option.getOrThrow(yield* h.provide(getAudience("big" as AudienceKey)))
      expect(big).toMatchObject({ desired: 1_000, synced: 1_000, pending: { add: 0, remove: 0 }, pendingImports: [] })
    }))

  it.effect("the file staged while another import of the list runs is sent when that one has ended", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      const h = yield* harness({ importMillis: 150_000 }, undefined, namingCalls(names))
      yield* h.send(members(1_000))
      yield* TestClock.adjust("1 minute")
      yield* h.tick(capped)
      yield* TestClock.adjust("1 minute")
      yield* h.tick(capped)
      yield* TestClock.adjust("1 minute")
      yield* h.tick(capped)
      expect(names.filter((n) => n === "importCsv")).toHaveLength(1)
      // More members while the first file's import runs: staged meanwhile, sent after it ended.
      yield* h.send(Array.from({ length: 1_000 }, (_, i) => event("big", `v${i}`, [`user${1_000 + i}@example.com`], true)))
      for (let i = 0; i < 2; i++) {
        yield* TestClock.adjust("1 minute")
        yield* h.tick(capped)
      }
      expect(names.filter((n) => n === "importCsv")).toHaveLength(1)
      expect((yield* record(h))?.staged?.rows).toBeGreaterThan(0)
      yield* untilQuiet(h)
      expect(yield* h.control.members("big")).toEqual(everyone(2_000))
      expect(names.filter((n) => n === "importCsv")).toHaveLength(2)
    }))

  it.effect("a load the fold has not caught up with fills one file as it is folded, rather than a part-full file per import", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      // Imports end in 5 s and are known to: a file sent each tick would be polled on the next.
      const h = yield* harness({ importMillis: 5_000 }, undefined, namingCalls(names), { importLatencyMillis: 10_000 })
      const load = members(3_000)
      for (let b = 0; b < 10; b++) yield* h.send(load.slice(300 * b, 300 * (b + 1)))
      // The load arrived long ago (its rows are late already, so due), a tick folds four of its
      // ten entries (three ticks to reach the ledger), and a tick may make five calls: upserting
      // a tick's 1,200 rows would take eight, so they go by import.
      yield* TestClock.adjust("10 minutes")
      for (let i = 0; i < 3; i++) {
        if (i > 0) yield* TestClock.adjust("1 minute")
        const now = yield* Clock.currentTimeMillis
        const summary = yield* h.tick({ ...settings, maxInboxEntries: 4, deadline: now + 2_000 })
        expect(summary.changesFolded).toBe(i < 2 ? 1_200 : 600)
      }
      // Staged while the rest waited in the inbox, sent once the fold caught up: one import.
      expect(names.filter((n) => n === "importCsv")).toHaveLength(1)
      expect((yield* record(h))?.imports).toMatchObject([{ rows: 3_000 }])
      yield* untilQuiet(h)
      expect(yield* h.control.members("big")).toEqual(everyone(3_000))
      expect(names.filter((n) => n === "importCsv")).toHaveLength(1)
    }))

  it.effect("an email that leaves while its row is staged ends off the list", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send(members(1_000))
      yield* h.tick(capped)
      const staged = (yield* record(h))?.staged
      expect(staged?.rows).toBeGreaterThanOrEqual(400)
      expect(staged?.sample.length).toBeGreaterThan(10)
      // Ten of the staged rows leave before the file is sent: the import adds them, the ledger knows
      // it did, and the next delta removes them.
      const leaving = (staged?.sample ?? []).slice(0, 10)
      yield* h.send(leaving.map((email) => event("big", `u${email.slice(4, email.indexOf("@"))}`, [email], false)))
      yield* untilQuiet(h)
      const on = yield* h.control.members("big")
      expect(on).toHaveLength(990)
      for (const email of leaving) expect(on).not.toContain(email)
      const big = Option.getOrThrow(yield* h.provide(getAudience("big" as AudienceKey)))
      expect(big).toMatchObject({ desired: 990, synced: 990, pending: { add: 0, remove: 0 } })
    }))

  it.effect("a staged row the import refuses goes by upsert + add, and is refused there too", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      const h = yield* harness({ refuse: new Map([["user7@example.com", "1003"]]) }, undefined, namingCalls(names))
      yield* h.send(members(1_000))
      yield* untilQuiet(h)
      expect(names.filter((n) => n === "importCsv")).toHaveLength(1)
      expect(names).toContain("upsertLeads")
      const big = Option.getOrThrow(yield* h.provide(getAudience("big" as AudienceKey)))
      expect(big).toMatchObject({ desired: 1_000, synced: 999, refused: 1, pending: { add: 0, remove: 0 } })
      expect((yield* h.control.members("big")).length).toBe(999)
    }))

  it.effect("a stop at any Marketo call while staging or sending: exact, no lead twice, the file sent again only once given up on", () =>
    Effect.gen(function*() {
      const timed = { importMillis: 30_000 }
      const baselineNames: Array<string> = []
      const baseline = yield* harness(timed, undefined, namingCalls(baselineNames))
      yield* baseline.send(members(1_000))
      yield* untilQuiet(baseline)
      expect(yield* baseline.control.members("big")).toEqual(everyone(1_000))
      const total = baselineNames.length
      for (let k = 1; k <= total; k++) {
        for (const crash of ["at", "after"] as const) {
          const seen: Array<string> = []
          const h = yield* harness(timed, undefined, namingCalls(seen))
          yield* (crash === "at" ? h.control.crashAtCall(k) : h.control.crashAfterCall(k))
          yield* h.send(members(1_000))
          yield* untilQuiet(h)
          expect(yield* h.control.members("big")).toEqual(everyone(1_000))
          expect((yield* h.control.state).leads.size).toBe(1_000)
          // Killed after it ran, the import is found on the list; killed before, it is given up on
          // once looked for long enough, then staged and sent again.
          expect(seen.filter((n) => n === "importCsv").length).toBeLessThanOrEqual(crash === "after" ? 1 : 2)
          expect(yield* stagedKeys(h)).toEqual([])
          expect(yield* h.inner.list("aud/big/journal/")).toEqual([])
        }
      }
    }), { timeout: 120_000 })

  it.effect("a stop at any state write while staging or sending: exact, no part or journal left, the file sent at most twice", () =>
    Effect.gen(function*() {
      const writes = { n: 0, crashAt: 0 }
      const isIngestWrite = (key: string) => key.startsWith(StateKeys.inboxPrefix) || key.startsWith(StateKeys.inboxSummaryPrefix)
      const counting = (s: StateStoreService): StateStoreService => {
        const gate = <A, E>(effect: Effect.Effect<A, E>) => Effect.suspend(() => (++writes.n === writes.crashAt ? Effect.interrupt : effect))
        return {
          ...s,
          set: (key, value) => (isIngestWrite(key) ? s.set(key, value) : gate(s.set(key, value))),
          setMany: (entries) => (entries.every(([key]) => isIngestWrite(key)) ? s.setMany(entries) : gate(s.setMany(entries))),
          remove: (keys) => gate(s.remove(keys))
        }
      }
      const timed = { importMillis: 30_000 }
      const baseline = yield* harness(timed, counting)
      yield* baseline.send(members(1_000))
      yield* untilQuiet(baseline)
      const total = writes.n
      expect(total).toBeGreaterThan(10)
      for (let k = 1; k <= total; k++) {
        writes.n = 0
        writes.crashAt = k
        const seen: Array<string> = []
        const h = yield* harness(timed, counting, namingCalls(seen))
        yield* h.send(members(1_000))
        yield* untilQuiet(h)
        expect(yield* h.control.members("big")).toEqual(everyone(1_000))
        expect((yield* h.control.state).leads.size).toBe(1_000)
        expect(seen.filter((n) => n === "importCsv").length).toBeLessThanOrEqual(2)
        expect(yield* stagedKeys(h)).toEqual([])
        expect(yield* h.inner.list("aud/big/journal/")).toEqual([])
        expect(yield* h.inner.list(StateKeys.inboxPrefix)).toEqual([])
      }
    }), { timeout: 120_000 })
})
