// A large load in the inbox does not hold back the audiences that send after it: the fold takes
// entries from each audience in turn (by the tag their keys carry), and folds the audiences with
// the fewest changes first, so a load folding up to the deadline delays the small ones by nothing.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Option, Schema, TestClock } from "effect"
import fc from "fast-check"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { audienceTag, InboxEntryJson } from "../../../core/2-ledger/Inbox.js"
import { carriedEntryMemberships, fairOrder, foldInbox } from "../../../core/5-tick/FoldInbox.js"
import { event, harness, settings, slowShardStore } from "./TickHarness.js"

const big = (batch: number) => Array.from({ length: 50 }, (_, i) => event("big", `b${batch}.${i}`, [`b${batch}.${i}@example.com`], true))

describe("FoldInbox: fairness between audiences", () => {
  it("takes every key once, each tag's keys in their order, the tags in turn", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom("", "~a", "~b", "~c"), fc.nat(999)), { maxLength: 40 }), (picks) => {
      const keys = picks.map(([tag, n], i) => `inbox/${String(n).padStart(13, "0")}-${i.toString(36)}${tag}`).sort()
      const order = fairOrder(keys)
      expect([...order].sort()).toEqual(keys)
      for (const tag of ["", "a", "b", "c"]) {
        const ofTag = (list: ReadonlyArray<string>) => list.filter((k) => (k.includes("~") ? k.slice(k.indexOf("~") + 1) : "") === tag)
        expect(ofTag(order)).toEqual(ofTag(keys))
      }
      // In any prefix, no tag is more than one entry ahead of another tag that still has entries.
      const tags = [...new Set(keys.map((k) => (k.includes("~") ? k.slice(k.indexOf("~") + 1) : "")))]
      const total = (tag: string) => keys.filter((k) => k.endsWith(`~${tag}`) || (tag === "" && !k.includes("~"))).length
      for (let n = 1; n <= order.length; n++) {
        const taken = (tag: string) => order.slice(0, n).filter((k) => k.endsWith(`~${tag}`) || (tag === "" && !k.includes("~"))).length
        for (const a of tags) for (const b of tags) if (taken(b) < total(b)) expect(taken(a) - taken(b)).toBeLessThanOrEqual(1)
      }
    }))
  })

  it.effect("an audience that sends after a large load is folded and synced on the next tick", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      for (let b = 0; b < 12; b++) yield* h.send(big(b))
      yield* TestClock.adjust("1 second")
      yield* h.send([event("small", "s1", ["s1@example.com"], true)])
      // Four entries a tick: oldest first, the small audience would wait three ticks behind the load.
      yield* TestClock.adjust("5 minutes")
      yield* h.tick({ ...settings, maxInboxEntries: 4 })
      expect(yield* h.control.members("small")).toEqual(["s1@example.com"])
      expect((yield* h.inner.list(StateKeys.inboxPrefix)).length).toBeGreaterThan(0)
    }))

  it.effect("the audience with the fewest changes is folded first, before a load reaches the fold's deadline", () =>
    Effect.gen(function*() {
      // Every read or write of a shard takes a second (slowShardStore): the load's 600 emails in
      // 64 shards take half a minute to fold, the small audience's one email two seconds.
      const h = yield* harness(undefined, slowShardStore)
      for (let b = 0; b < 12; b++) yield* h.send(big(b))
      yield* h.send([event("small", "s1", ["s1@example.com"], true)])
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(h.tick({ ...settings, foldDeadline: start + 10_000 }))
      while (Option.isNone(yield* Fiber.poll(fiber))) yield* TestClock.adjust("500 millis")
      const summary = yield* Fiber.join(fiber)
      // The load folded to the deadline and carried its rest …
      expect(summary.stoppedBy).toBe("deadline")
      expect(summary.changesFolded).toBeLessThan(600)
      // … and the small audience's change was folded before it: its record counts it.
      const small = yield* h.inner.get(StateKeys.audience("small" as never))
      expect(Option.isSome(small)).toBe(true)
    }))
})

describe("FoldInbox: what a stopped fold carries", () => {
  it.effect("is kept in entries of at most 10,000 changes, so the next tick's byte cap still bounds what it reads", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send(Array.from({ length: 25_000 }, (_, i) => event("load", `l${i}`, [`l${i}@example.com`], true)))
      // A deadline already past: the fold does its first shards and carries the rest.
      const folded = yield* h.provide(foldInbox(200, 4_000_000, 0))
      expect(folded.stopped).toBe(true)
      const keys = (yield* h.inner.list(StateKeys.inboxPrefix))
      const sizes: Array<number> = []
      for (const key of keys) {
        const entry = Schema.decodeUnknownSync(InboxEntryJson)(Option.getOrThrow(yield* h.inner.get(key)))
        sizes.push(entry.memberships.length)
      }
      expect(sizes.length).toBeGreaterThanOrEqual(3)
      expect(Math.max(...sizes)).toBeLessThanOrEqual(carriedEntryMemberships)
      // Nothing lost: what was folded and what waits add up to the load.
      expect(folded.changes + sizes.reduce((a, b) => a + b, 0)).toBe(25_000)
      // The planner is told the load still has changes in the inbox.
      expect([...folded.waitingTags]).toEqual([audienceTag("load" as AudienceKey)])
    }))
})

describe("FoldInbox: which audiences still wait", () => {
  it.effect("names the audiences with entries left unread or carried, not those folded whole or sent in entries of several audiences", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      for (let b = 0; b < 6; b++) yield* h.send(big(b))
      yield* h.send([event("small", "s1", ["s1@example.com"], true)])
      yield* h.send([event("mixed", "m1", ["m1@example.com"], true), event("other", "o1", ["o1@example.com"], true)])
      // Four entries: the small audience's, the mixed one and two of the load's six.
      const first = yield* h.provide(foldInbox(4, 4_000_000))
      expect(first.backlog).toBe(true)
      expect([...first.waitingTags]).toEqual([audienceTag("big" as AudienceKey)])
      const second = yield* h.provide(foldInbox(200, 4_000_000))
      expect(second.backlog).toBe(false)
      expect(second.waitingTags.size).toBe(0)
    }))
})
