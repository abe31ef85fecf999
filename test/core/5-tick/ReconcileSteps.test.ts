// A reconcile in steps: pages read across ticks under a small deadline, stopped before any write,
// gives what a run in one go gives; drift of every kind is found; a change synced while the run
// goes is not overwritten with what an earlier page read; no step holds more than a page.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Option, TestClock } from "effect"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ListId } from "../../../core/1-events/Ids.js"
import { readRecord } from "../../../core/2-ledger/AudienceShards.js"
import { loadParts, merged } from "../../../core/2-ledger/PendingIndex.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { getAudience } from "../../../core/5-tick/AudienceStatus.js"
import { readRun, reconcileAudience, reconcileStep, runSteps, startReconcile, type StepOutcome } from "../../../core/5-tick/Reconcile.js"
import { MarketoRejected } from "../../../core/marketo/MarketoErrors.js"
import { MarketoApi } from "../../../core/ports/MarketoApi.js"
import type { StateStoreService } from "../../../core/ports/StateStore.js"
import { type Api, event, harness, settings } from "./TickHarness.js"

const vip = "vip" as AudienceKey
const pageSize = 4
type H = Effect.Effect.Success<ReturnType<typeof harness>>

/**
 * `n` members synced (24 unless told), then the last leaves; then by hand: u1-u3 removed, x1 and
 * x2 added, the last (who left) added back, a lead without email added.
 */
const drift = (h: H, n = 24) =>
  Effect.gen(function*() {
    yield* h.send(Array.from({ length: n }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
    yield* h.untilQuiet
    yield* h.send([event("vip", `u${n - 1}`, [`u${n - 1}@example.com`], false)])
    yield* h.untilQuiet
    const listId = Option.getOrThrow(yield* h.provide(getAudience(vip))).listId as ListId
    yield* h.provide(Effect.gen(function*() {
      const api = yield* MarketoApi
      const gone = yield* api.lookupLeads(["u1@example.com", "u2@example.com", "u3@example.com"] as Array<Email>)
      yield* api.removeFromList(listId, gone.flatMap((l) => l.leadIds))
      const added = yield* api.upsertLeads(["x1@example.com", "x2@example.com", `u${n - 1}@example.com`, "not an email"] as Array<Email>)
      yield* api.addToList(listId, added.flatMap((o) => (o.status === "skipped" ? [] : [o.leadId])))
    }))
    return listId
  })

const expectedAfter = Array.from({ length: 23 }, (_, i) => `u${i}@example.com`).sort()
/** The crash runs use fewer members: 12, in three pages. */
const few = 12
const expectedAfterFew = Array.from({ length: few - 1 }, (_, i) => `u${i}@example.com`).sort()

/**
 * What a run leaves: every ledger record (synced, lead ids, holders) and the report's counts. Its
 * calls are left out: a run the ticks carry on checks with Marketo what syncs changed meanwhile.
 */
const outcome = (h: H) =>
  h.provide(Effect.gen(function*() {
    const record = Option.getOrThrow(yield* readRecord(vip))
    const parts = yield* loadParts(vip, Object.keys(record.shards).map(Number), record.audienceClass)
    const ledger: Record<string, unknown> = {}
    for (const { base, index } of parts.values()) {
      for (const [email, r] of Object.entries(merged(base, index).emails)) ledger[email] = { synced: r.synced, leadIds: r.leadIds, holders: r.holders.length }
    }
    const { run: _, startedAt: __, at: ___, calls: ____, ...report } = record.lastReconcile!
    return { ledger: Object.fromEntries(Object.entries(ledger).sort()), report }
  }))

const noRunLeft = (h: H) =>
  Effect.gen(function*() {
    expect(yield* h.inner.get(StateKeys.reconcile(vip))).toEqual(Option.none())
    expect(yield* h.inner.list(StateKeys.reconcileSeenPrefix(vip))).toEqual([])
  })

/** Every Marketo call and every state write takes a second of test time. */
const slowApi = (api: Api): Api =>
  Object.fromEntries(Object.entries(api).map(([name, f]) => [name, (...args: Array<unknown>) =>
    Effect.zipRight(TestClock.adjust("1 second"), (f as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))])) as unknown as Api

/** A write of the reconcile's (its state, or what it filed): each ends one of its steps. */
const ofRun = (keys: ReadonlyArray<string>) => keys.some((k) => k === StateKeys.reconcile(vip) || k.startsWith(StateKeys.reconcileSeenPrefix(vip)))

/**
 * A store where, once armed, each of the reconcile's writes takes a second of test time, and the
 * k-th kills the program before it is made.
 */
const killing = (plan: { armed: boolean; writes: number; at: number }) => (s: StateStoreService): StateStoreService => {
  const write = <A, E>(keys: ReadonlyArray<string>, effect: Effect.Effect<A, E>) =>
    Effect.suspend(() => {
      if (!plan.armed || !ofRun(keys)) return effect
      plan.writes++
      return plan.writes === plan.at ? Effect.interrupt : Effect.zipRight(TestClock.adjust("1 second"), effect)
    })
  return { ...s, set: (k, v) => write([k], s.set(k, v)), setMany: (e) => write(e.map(([k]) => k), s.setMany(e)), remove: (k) => write(k, s.remove(k)) }
}

/** Ticks with `budget` ms each until no run is left; the ticks it took. */
const tickUntilDone = (h: H, budget: number) =>
  Effect.gen(function*() {
    for (let i = 1; i <= 200; i++) {
      const now = yield* Clock.currentTimeMillis
      yield* Effect.exit(h.tick({ ...settings, deadline: now + budget }))
      if (Option.isNone(yield* h.inner.get(StateKeys.reconcile(vip)))) return i
      yield* TestClock.adjust("1 minute")
    }
    throw new Error("the reconcile did not end in 200 ticks")
  })

describe("Reconcile in steps", () => {
  it.effect("finds every kind of drift in one go, and the next ticks put the list right", () =>
    Effect.gen(function*() {
      const h = yield* harness({ listPageSize: pageSize })
      yield* drift(h)
      const report = Option.getOrThrow(yield* h.provide(reconcileAudience(vip)))
      // 24 members in six pages, one call removing the lead without email.
      expect(report).toEqual({ audience: vip, membersRead: 24, calls: 7, missing: 3, unexpected: 3, strays: 1 })
      yield* noRunLeft(h)
      const { ledger } = yield* outcome(h)
      expect(ledger["u1@example.com"]).toMatchObject({ synced: false, holders: 1 })
      expect(ledger["x1@example.com"]).toMatchObject({ synced: true, holders: 0 })
      expect(ledger["u23@example.com"]).toMatchObject({ synced: true, holders: 1 })
      expect(Option.getOrThrow(yield* h.provide(getAudience(vip)))).toMatchObject({ pending: { add: 3, remove: 3 } })
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(expectedAfter)
    }))

  it.effect("run across ticks under a small deadline, and stopped before any of its writes, ends as a run in one go", () =>
    Effect.gen(function*() {
      const reference = yield* harness({ listPageSize: pageSize })
      yield* drift(reference, few)
      yield* reference.provide(reconcileAudience(vip))
      // The ticks of a stepped run sync what its first shards found before it ends: the lists and
      // ledgers are compared once the ticks have made the list right.
      yield* reference.untilQuiet
      const expected = yield* outcome(reference)

      // Uninterrupted, in ticks of 2.5 s where every call and each of its writes take a second: several ticks.
      const plan = { armed: false, writes: 0, at: 0 }
      const stepped = yield* harness({ listPageSize: pageSize }, killing(plan), slowApi)
      yield* drift(stepped, few)
      plan.armed = true
      yield* stepped.provide(startReconcile(vip))
      const ticks = yield* tickUntilDone(stepped, 2_500)
      expect(ticks).toBeGreaterThan(3)
      yield* noRunLeft(stepped)
      yield* stepped.untilQuiet
      expect(yield* outcome(stepped)).toEqual(expected)
      const writes = plan.writes
      expect(writes).toBeGreaterThan(10)

      // Killed before each of its writes in turn (ticks of 10 s), then resumed by the next ticks.
      for (let at = 2; at <= writes; at++) {
        const kill = { armed: false, writes: 0, at }
        const h = yield* harness({ listPageSize: pageSize }, killing(kill), slowApi)
        yield* drift(h, few)
        kill.armed = true
        yield* h.provide(startReconcile(vip))
        yield* tickUntilDone(h, 10_000)
        expect(kill.writes).toBeGreaterThanOrEqual(at)
        yield* noRunLeft(h)
        yield* h.untilQuiet
        expect(yield* outcome(h)).toEqual(expected)
        expect(yield* h.control.members("vip")).toEqual(expectedAfterFew)
      }
    }), { timeout: 120_000 })

  it.effect("a change synced while the run goes keeps what the sync wrote", () =>
    Effect.gen(function*() {
      const h = yield* harness({ listPageSize: pageSize })
      yield* drift(h)
      yield* h.provide(startReconcile(vip))
      // Every page read (u5 among them, on the list), none of the shards swept yet.
      for (;;) {
        const run = Option.getOrThrow(yield* h.provide(readRun(vip)))
        if (run.phase !== "read" && run.removing === undefined) break
        yield* h.provide(reconcileStep(vip))
      }
      // Then u5 leaves and n1 joins; a tick that leaves reconciles alone syncs both.
      yield* h.send([event("vip", "u5", ["u5@example.com"], false), event("vip", "n1", ["n1@example.com"], true)])
      yield* TestClock.adjust("1 minute")
      const synced = yield* h.tick({ ...settings, reconcileMaxCalls: 0 })
      expect(synced.reconcileCalls).toBe(0)
      expect(yield* h.control.members("vip")).toContain("n1@example.com")
      expect(yield* h.control.members("vip")).not.toContain("u5@example.com")
      const callsBefore = (yield* h.control.state).calls
      const report = yield* h.provide(Effect.map(runSteps(vip, () => Effect.succeed(true)), (r) => r.last))
      expect(report._tag).toBe("Done")
      // The sync moved the journal epoch: every record where the pages and the ledger disagree is
      // checked with Marketo, one call for each of the six shards holding one (u1, u2, u3 and n1
      // synced but not read, u5 and u23 read but not synced). u5 and n1 keep what the sync wrote;
      // the drift from before the run is found as in one go.
      expect((yield* h.control.state).calls - callsBefore).toBe(6)
      expect((report as Extract<StepOutcome, { _tag: "Done" }>).report).toMatchObject({ missing: 3, unexpected: 3, strays: 1 })
      const { ledger } = yield* outcome(h)
      expect(ledger["u5@example.com"]).toMatchObject({ synced: false })
      expect(ledger["n1@example.com"]).toMatchObject({ synced: true })
      // The next ticks add back u1-u3 and remove x1, x2 and u23; n1 is not added again.
      const before = (yield* h.control.state).calls
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual([...expectedAfter.filter((e) => e !== "u5@example.com"), "n1@example.com"].sort())
      expect((yield* h.control.state).calls - before).toBeLessThanOrEqual(3)
    }))

  it.effect("holds one page while reading and one bucket while sweeping; its stored state holds no member", () =>
    Effect.gen(function*() {
      const written: Array<readonly [string, string]> = []
      const recording = (s: StateStoreService): StateStoreService => ({
        ...s,
        set: (k, v) => Effect.zipRight(Effect.sync(() => void written.push([k, v])), s.set(k, v)),
        setMany: (e) => Effect.zipRight(Effect.sync(() => void written.push(...e)), s.setMany(e))
      })
      const h = yield* harness({ listPageSize: pageSize }, recording)
      yield* drift(h)
      written.length = 0
      yield* h.provide(startReconcile(vip))
      const steps: Array<StepOutcome> = []
      yield* h.provide(runSteps(vip, () => Effect.succeed(true), (o) => void steps.push(o)))
      const pages = steps.filter((s) => s._tag === "Page")
      expect(pages).toHaveLength(6)
      for (const page of pages) expect((page as { held: number }).held).toBeLessThanOrEqual(pageSize)
      // A bucket here is one shard: its members and its records, never more than a few.
      for (const shard of steps.filter((s) => s._tag === "Shard")) expect((shard as { held: number }).held).toBeLessThanOrEqual(8)
      const runStates = written.filter(([k]) => k === StateKeys.reconcile(vip))
      expect(runStates.length).toBeGreaterThan(6)
      for (const [, value] of runStates) {
        expect(value).not.toContain("@")
        expect(value.length).toBeLessThan(1_000)
      }
      const filed = written.filter(([k]) => k.startsWith(StateKeys.reconcileSeenPrefix(vip)))
      expect(filed.length).toBeGreaterThan(0)
      for (const [, value] of filed) expect((JSON.parse(value) as Array<unknown>).length).toBeLessThanOrEqual(pageSize)
      yield* noRunLeft(h)
    }))

  it.effect("a step that fails is kept with the run, shown as failing, and cleared by the next step that succeeds", () =>
    Effect.gen(function*() {
      const broken = { on: false }
      const h = yield* harness({ listPageSize: pageSize }, undefined, (api) => ({
        ...api,
        listMembers: (...args: Parameters<Api["listMembers"]>) =>
          broken.on ? Effect.fail(new MarketoRejected({ code: "1003", message: "list paging refused" })) : api.listMembers(...args)
      }))
      yield* drift(h)
      yield* h.provide(startReconcile(vip))
      broken.on = true
      for (let i = 1; i <= 2; i++) {
        yield* TestClock.adjust("1 minute")
        yield* h.tick()
        const view = Option.getOrThrow(yield* h.provide(getAudience(vip)))
        expect(view.reconciling).toBe(true)
        expect(view.reconcileFailing).toMatchObject({ tag: "MarketoRejected", message: "list paging refused", times: i })
      }
      broken.on = false
      yield* TestClock.adjust("1 minute")
      yield* h.tick({ ...settings, reconcileMaxCalls: 1 })
      const running = Option.getOrThrow(yield* h.provide(getAudience(vip)))
      expect(running.reconciling).toBe(true)
      expect(running.reconcileFailing).toBeUndefined()
      yield* h.untilQuiet
      expect(Option.getOrThrow(yield* h.provide(readRecord(vip))).lastReconcile).toMatchObject({ membersRead: 24, missing: 3, unexpected: 3 })
      yield* noRunLeft(h)
    }))

  it.effect("the ticks carry on a run the admin route started, within the calls the tick has left", () =>
    Effect.gen(function*() {
      const h = yield* harness({ listPageSize: pageSize })
      yield* drift(h)
      yield* h.provide(startReconcile(vip))
      yield* TestClock.adjust("1 minute")
      const first = yield* h.tick({ ...settings, reconcileMaxCalls: 2 })
      expect(first.reconcileCalls).toBe(2)
      expect(Option.getOrThrow(yield* h.provide(readRun(vip)))).toMatchObject({ phase: "read", page: 2, membersRead: 8 })
      yield* TestClock.adjust("1 minute")
      yield* h.tick()
      expect(Option.isNone(yield* h.provide(readRun(vip)))).toBe(true)
      expect(Option.getOrThrow(yield* h.provide(readRecord(vip))).lastReconcile).toMatchObject({ membersRead: 24, calls: 7, missing: 3, unexpected: 3, strays: 1 })
      yield* noRunLeft(h)
      // Starting again while nothing changed finds no drift left once the ticks have put it right.
      yield* h.untilQuiet
      expect(Option.getOrThrow(yield* h.provide(reconcileAudience(vip)))).toMatchObject({ missing: 0, unexpected: 0, strays: 0 })
      expect(Exit.isSuccess(yield* Effect.exit(h.provide(reconcileStep(vip))))).toBe(true)
    }))
})
