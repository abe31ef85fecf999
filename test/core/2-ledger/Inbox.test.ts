import { describe, expect, it } from "@effect/vitest"
import { quarantineView, retryQuarantine } from "../../../core/2-ledger/Quarantine.js"
import { fanOut } from "../../../core/1-events/MembershipChange.js"
import { makeMarketoMemory } from "../../../core/ports/MarketoApiMemory.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"
import { Effect, Either, Option, Schema, TestClock } from "effect"
import { decodeEvents } from "../../../core/1-events/EventDecoder.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { appendInbox, audienceTag, InboxEntryJson, inboxTagOf } from "../../../core/2-ledger/Inbox.js"
import { parseLeadFieldMapping } from "../../../core/1-events/LeadFields.js"
import { MarketoApi } from "../../../core/ports/MarketoApi.js"
import { StateNotVisible, StateStore, type StateStoreService } from "../../../core/ports/StateStore.js"
import { getAudience } from "../../../core/5-tick/AudienceStatus.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { runTick } from "../../../core/5-tick/Tick.js"

const at = Date.UTC(2026, 10, 20, 9, 30)
const identify = (user: string, email: string | undefined, member: boolean, n: number) => ({
  type: "identify",
  userId: user,
  messageId: `msg-${n}`,
  timestamp: new Date(at + n * 1000).toISOString(),
  traits: { ...(email === undefined ? {} : { email }), vip: member },
  context: { personas: { computation_key: "vip", computation_class: "audience" } }
})
const decoded = (events: ReadonlyArray<unknown>) => Either.getOrThrow(decodeEvents(events, at))
const settings = { folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: Number.MAX_SAFE_INTEGER }

describe("Inbox", () => {
  it.effect("stores the accepted changes under a key sorted by arrival, and the value reads back whole", () =>
    Effect.gen(function*() {
      const store = yield* makeStateStoreMemory()
      yield* TestClock.setTime(at)
      const batch = decoded([identify("u1", "Ada@Example.com", true, 1), identify("u2", undefined, true, 2)])
      const first = yield* appendInbox(batch).pipe(Effect.provideService(StateStore, store))
      const second = yield* appendInbox(batch).pipe(Effect.provideService(StateStore, store))
      yield* TestClock.adjust(1)
      const third = yield* appendInbox(batch).pipe(Effect.provideService(StateStore, store))
      // One audience's entry carries its tag, which the fold takes entries fairly by.
      expect(first).toMatch(new RegExp(`^inbox/${String(at).padStart(13, "0")}-[0-9a-z]+~${audienceTag("vip" as AudienceKey)}$`))
      expect(inboxTagOf(first)).toBe(audienceTag("vip" as AudienceKey))
      expect(second).not.toBe(first) // same millisecond, still a new key: entries are never overwritten
      expect(yield* store.list(StateKeys.inboxPrefix)).toEqual([first, second].sort().concat([third]))
      const stored = Schema.decodeUnknownSync(InboxEntryJson)(Option.getOrThrow(yield* store.get(first)))
      expect(stored.receivedAt).toBe(at)
      expect(stored.memberships.flatMap(fanOut).map((c) => [c.audience, c.user, c.email, c.member])).toEqual([["vip", "u1", "ada@example.com", true]])
      expect(stored.memberships.filter((m) => m.emails.length === 0).map((m) => [m.audience, m.user, m.member])).toEqual([["vip", "u2", true]])
    }))

  it.effect("lead field values travel in an optional column, by index into the entry's field names, and read back whole", () =>
    Effect.gen(function*() {
      const store = yield* makeStateStoreMemory()
      const mapping = Either.getOrThrow(parseLeadFieldMapping("firstName=firstName,lastName=lastName"))
      const withNames = (user: string, email: string, n: number, traits: Record<string, unknown>) => {
        const e = identify(user, email, true, n)
        return { ...e, traits: { ...e.traits, ...traits } }
      }
      const batch = Either.getOrThrow(decodeEvents([
        withNames("u1", "ada@example.com", 1, { firstName: "Ada", lastName: "Lovelace, \"Countess\"" }),
        withNames("u2", "alan@example.com", 2, { lastName: "Turing" }),
        withNames("u3", "grace@example.com", 3, {})
      ], at, mapping))
      const key = yield* appendInbox(batch).pipe(Effect.provideService(StateStore, store))
      const json = Option.getOrThrow(yield* store.get(key))
      const raw = JSON.parse(json) as { fields: Array<string>; events: Array<Array<unknown>> }
      expect(raw.fields).toEqual(["firstName", "lastName"])
      expect(raw.events.map((e) => e[6])).toEqual([[0, "Ada", 1, "Lovelace, \"Countess\""], [1, "Turing"], undefined])
      const stored = Schema.decodeUnknownSync(InboxEntryJson)(json)
      expect(stored.memberships.map((m) => m.fields)).toEqual([{ firstName: "Ada", lastName: "Lovelace, \"Countess\"" }, { lastName: "Turing" }, undefined])
      expect(stored.memberships.flatMap(fanOut).map((c) => c.fields?.["lastName"])).toEqual(["Lovelace, \"Countess\"", "Turing", undefined])
    }))

  it.effect("an entry this reader cannot see yet waits for a later tick; the others are folded and removed", () =>
    Effect.gen(function*() {
      const inner = yield* makeStateStoreMemory()
      let hidden: string | undefined
      const store: StateStoreService = {
        ...inner,
        get: (key) => (key === hidden ? Effect.fail(new StateNotVisible({ key })) : inner.get(key))
      }
      const { api, control } = yield* makeMarketoMemory()
      const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | MarketoApi>) =>
        effect.pipe(Effect.provideService(StateStore, store), Effect.provideService(MarketoApi, api))
      const first = yield* provide(appendInbox(decoded([identify("u1", "a@example.com", true, 1)])))
      hidden = yield* provide(appendInbox(decoded([identify("u2", "b@example.com", true, 2)])))
      const tick1 = yield* provide(runTick(settings))
      expect(tick1.inboxFolded).toBe(1)
      expect(yield* inner.list(StateKeys.inboxPrefix)).toEqual([hidden])
      expect(yield* inner.get(first)).toEqual(Option.none())
      expect(yield* control.members("vip")).toEqual(["a@example.com"])
      hidden = undefined
      const tick2 = yield* provide(runTick(settings))
      expect(tick2.inboxFolded).toBe(1)
      expect(yield* inner.list(StateKeys.inboxPrefix)).toEqual([])
      expect(yield* control.members("vip")).toEqual(["a@example.com", "b@example.com"])
    }))

  it.effect("an entry that does not decode moves to the quarantine as it was, and does not hold up the others", () =>
    Effect.gen(function*() {
      const store = yield* makeStateStoreMemory()
      const { api, control } = yield* makeMarketoMemory()
      const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | MarketoApi>) =>
        effect.pipe(Effect.provideService(StateStore, store), Effect.provideService(MarketoApi, api))
      yield* store.set(StateKeys.inbox(1, "broken"), "{not json")
      yield* provide(appendInbox(decoded([identify("u1", "a@example.com", true, 1)])))
      const tick = yield* provide(runTick(settings))
      expect(tick.inboxFolded).toBe(2)
      expect(tick.foldFailures).toMatchObject([{ audience: null, tag: "InboxEntryUnreadable", quarantined: true }])
      expect(yield* store.list(StateKeys.inboxPrefix)).toEqual([])
      expect(yield* control.members("vip")).toEqual(["a@example.com"])
      const view = yield* provide(quarantineView())
      expect(view).toMatchObject({ count: 0, entries: 1, reasons: [{ audience: null, tag: "InboxEntryUnreadable" }] })
      // A retry puts the text back as it was, and the tick quarantines it again: nothing is lost.
      expect(yield* provide(retryQuarantine())).toEqual({ retried: 0, unreadable: 0 })
      const back = yield* store.list(StateKeys.inboxPrefix)
      expect(back).toHaveLength(1)
      expect(yield* store.get(back[0]!)).toEqual(Option.some("{not json"))
    }))

  it.effect("folds at most maxInboxEntries per tick, oldest first", () =>
    Effect.gen(function*() {
      const store = yield* makeStateStoreMemory()
      const { api } = yield* makeMarketoMemory()
      const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | MarketoApi>) =>
        effect.pipe(Effect.provideService(StateStore, store), Effect.provideService(MarketoApi, api))
      const keys: Array<string> = []
      for (let i = 0; i < 5; i++) {
        yield* TestClock.setTime(at + i)
        keys.push(yield* provide(appendInbox(decoded([identify(`u${i}`, `u${i}@example.com`, true, i)]))))
      }
      const tick = yield* provide(runTick({ ...settings, maxInboxEntries: 2, deadline: 0 }))
      expect(tick.inboxFolded).toBe(2)
      expect(yield* store.list(StateKeys.inboxPrefix)).toEqual(keys.slice(2))
      const vip = Option.getOrThrow(yield* provide(getAudience("vip" as AudienceKey)))
      expect(vip).toMatchObject({ desired: 2, pending: { add: 2 } })
    }))
  it.effect("stops reading the inbox past the byte cap, after at least one group of entries", () =>
    Effect.gen(function*() {
      const store = yield* makeStateStoreMemory()
      const { api } = yield* makeMarketoMemory()
      const provide = <A, E>(effect: Effect.Effect<A, E, StateStore | MarketoApi>) =>
        effect.pipe(Effect.provideService(StateStore, store), Effect.provideService(MarketoApi, api))
      for (let i = 0; i < 20; i++) {
        yield* TestClock.setTime(at + i)
        yield* provide(appendInbox(decoded([identify(`u${i}`, `u${i}@example.com`, true, i)])))
      }
      const one = Option.getOrThrow(yield* store.get((yield* store.list(StateKeys.inboxPrefix))[0]!)).length
      const first = yield* provide(runTick({ ...settings, maxInboxBytes: 1, deadline: 0 }))
      expect(first.inboxFolded).toBe(8)
      const second = yield* provide(runTick({ ...settings, maxInboxBytes: 9 * one, deadline: 0 }))
      expect(second.inboxFolded).toBe(12) // under the cap after 8 entries, so the next group is read too
      expect(yield* store.list(StateKeys.inboxPrefix)).toEqual([])
    }))
})
