import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, LeadId } from "../../../core/1-events/Ids.js"
import { compareHolders, emptyShard, foldShard, isDesired, markSynced, rememberLeadIds, shardCounts, shardDelta } from "../../../core/2-ledger/Ledger.js"
import type { LedgerShard } from "../../../core/2-ledger/LedgerShard.js"
import { MembershipChange } from "../../../core/1-events/MembershipChange.js"

const audience = "vip" as AudienceKey
const change = (user: string, email: string, member: boolean, timestamp: number, messageId = `${user}-${email}-${timestamp}-${member}`) =>
  new MembershipChange({ audience, audienceClass: "audience", user, email: email as Email, member, timestamp, messageId })
const fold = (changes: ReadonlyArray<MembershipChange>, from: LedgerShard = emptyShard(audience, 0)) => foldShard(from, changes)

// A small universe so that collisions (same user and email, same timestamp) are frequent.
const arbChange = fc.record({
  user: fc.constantFrom("u1", "u2", "u3"),
  email: fc.constantFrom("a@x.io", "b@x.io", "c@x.io"),
  member: fc.boolean(),
  timestamp: fc.integer({ min: 0, max: 5 }),
  messageId: fc.constantFrom("m1", "m2", "m3", "m4")
}).map((c) => change(c.user, c.email, c.member, c.timestamp, c.messageId))
const arbChanges = fc.array(arbChange, { maxLength: 40 })

describe("Ledger", () => {
  it("gives the same shard and delta for any permutation of the same changes", () => {
    fc.assert(fc.property(arbChanges.chain((cs) => fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length }))), ([cs, shuffled]) => {
      expect(fold(shuffled)).toEqual(fold(cs))
      expect(shardDelta(fold(shuffled), "audience")).toEqual(shardDelta(fold(cs), "audience"))
    }), { numRuns: 300 })
  })

  it("ignores redeliveries: the same changes twice give the same shard", () => {
    fc.assert(fc.property(arbChanges, (cs) => {
      expect(fold([...cs, ...cs])).toEqual(fold(cs))
      expect(fold(cs, fold(cs))).toEqual(fold(cs))
    }), { numRuns: 300 })
  })

  it("folding in several batches equals folding once", () => {
    fc.assert(fc.property(arbChanges, fc.integer({ min: 0, max: 40 }), (cs, cut) => {
      expect(fold(cs.slice(cut), fold(cs.slice(0, cut)))).toEqual(fold(cs))
    }), { numRuns: 300 })
  })

  it("counts references: an email stays desired while any member user holds it", () => {
    fc.assert(fc.property(arbChanges, (cs) => {
      const shard = fold(cs)
      for (const [email, record] of Object.entries(shard.emails)) {
        const latest = new Map<string, MembershipChange>()
        for (const c of cs.filter((c) => c.email === email)) {
          const prev = latest.get(c.user)
          const newer = prev === undefined || c.timestamp > prev.timestamp ||
            (c.timestamp === prev.timestamp && (c.messageId > prev.messageId || (c.messageId === prev.messageId && c.member && !prev.member)))
          if (newer) latest.set(c.user, c)
        }
        expect(isDesired(record)).toBe([...latest.values()].some((c) => c.member))
      }
    }), { numRuns: 300 })
  })

  it("keeps a shared email until the last member leaves", () => {
    let shard = fold([change("u1", "x@x.io", true, 1), change("u2", "x@x.io", true, 2)])
    shard = markSynced(shard, ["x@x.io" as Email], true)
    shard = fold([change("u1", "x@x.io", false, 3)], shard)
    expect(shardDelta(shard, "audience")).toEqual({ add: [], remove: [] })
    shard = fold([change("u2", "x@x.io", false, 4)], shard)
    expect(shardDelta(shard, "audience")).toEqual({ add: [], remove: ["x@x.io"] })
  })

  it("lets the newest word win when deliveries arrive out of order", () => {
    const shard = fold([change("u1", "a@x.io", false, 20), change("u1", "a@x.io", true, 10)])
    expect(shardDelta(shard, "audience").add).toEqual([])
    expect(shardDelta(fold([change("u1", "a@x.io", true, 10), change("u1", "a@x.io", false, 20), change("u1", "a@x.io", true, 30)]), "audience").add).toEqual(["a@x.io"])
  })

  it("breaks timestamp ties deterministically by messageId", () => {
    const a = change("u1", "a@x.io", true, 5, "m-b")
    const b = change("u1", "a@x.io", false, 5, "m-a")
    expect(fold([a, b])).toEqual(fold([b, a]))
    expect(isDesired(fold([a, b]).emails["a@x.io"]!)).toBe(true)
  })

  it("costs nothing for a change undone before it is synced", () => {
    expect(shardDelta(fold([change("u1", "a@x.io", true, 1), change("u1", "a@x.io", false, 2)]), "audience")).toEqual({ add: [], remove: [] })
  })

  it("never removes from a journey-step list", () => {
    let shard = markSynced(fold([change("u1", "a@x.io", true, 1)]), ["a@x.io" as Email], true)
    shard = fold([change("u1", "a@x.io", false, 2)], shard)
    expect(shardDelta(shard, "journey_step")).toEqual({ add: [], remove: [] })
    expect(shardDelta(shard, "audience").remove).toEqual(["a@x.io"])
  })

  it("shrinks the delta exactly by what was synced", () => {
    fc.assert(fc.property(arbChanges, fc.subarray(["a@x.io", "b@x.io", "c@x.io"]), (cs, done) => {
      const shard = fold(cs)
      const before = shardDelta(shard, "audience")
      const after = shardDelta(markSynced(shard, before.add.filter((e) => done.includes(e)), true), "audience")
      expect(after.add).toEqual(before.add.filter((e) => !done.includes(e)))
    }), { numRuns: 200 })
  })

  it("leaves emails in a running import or refused by Marketo out of the adds, until a newer change", () => {
    const shard = fold([change("u1", "a@x.io", true, 1), change("u2", "b@x.io", true, 1)])
    const marked: LedgerShard = {
      ...shard,
      emails: { ...shard.emails, "a@x.io": { ...shard.emails["a@x.io"]!, importing: 7 as never }, "b@x.io": { ...shard.emails["b@x.io"]!, refused: "1003" } }
    }
    expect(shardDelta(marked, "audience").add).toEqual([])
    expect(shardDelta(fold([change("u2", "b@x.io", true, 2)], marked), "audience").add).toEqual(["b@x.io"])
  })

  it("remembers and forgets lead ids", () => {
    let shard = fold([change("u1", "a@x.io", true, 1)])
    shard = rememberLeadIds(shard, [{ email: "a@x.io" as Email, leadIds: [9, 3] as Array<LeadId> }])
    expect(shard.emails["a@x.io"]?.leadIds).toEqual([3, 9])
    shard = rememberLeadIds(shard, [{ email: "a@x.io" as Email, leadIds: [] }])
    expect(shard.emails["a@x.io"]?.leadIds).toBeUndefined()
  })

  it("counts desired, synced and pending", () => {
    let shard = fold([change("u1", "a@x.io", true, 1), change("u1", "b@x.io", true, 1), change("u1", "c@x.io", false, 1)])
    shard = markSynced(shard, ["b@x.io", "c@x.io"] as Array<Email>, true)
    expect(shardCounts(shard, "audience")).toEqual({ desired: 2, synced: 2, pendingAdd: 1, pendingRemove: 1, importing: 0, refused: 0, pendingUpdate: 0 })
  })

  // A model written independently of the fold: the newest change per (user, email), then the
  // email is wanted when any of those is a member, and compared with what is on the list.
  const modelDelta = (cs: ReadonlyArray<MembershipChange>, synced: ReadonlySet<string>, audienceClass: "audience" | "journey_step") => {
    const latest = new Map<string, MembershipChange>()
    for (const c of cs) {
      const key = `${c.user}\u0000${c.email}`
      const prev = latest.get(key)
      const newer = prev === undefined || c.timestamp > prev.timestamp ||
        (c.timestamp === prev.timestamp && (c.messageId > prev.messageId || (c.messageId === prev.messageId && c.member && !prev.member)))
      if (newer) latest.set(key, c)
    }
    const emails = [...new Set(cs.map((c) => c.email as string))]
    const wanted = (e: string) => [...latest.values()].some((c) => c.email === e && c.member)
    return {
      add: emails.filter((e) => wanted(e) && !synced.has(e)).sort(),
      remove: audienceClass === "audience" ? emails.filter((e) => !wanted(e) && synced.has(e)).sort() : []
    }
  }
  const arbSynced = fc.subarray(["a@x.io", "b@x.io", "c@x.io"]).map((xs) => new Set(xs))

  it("proposes exactly the model's delta, for either audience class", () => {
    fc.assert(fc.property(arbChanges, arbSynced, fc.constantFrom("audience" as const, "journey_step" as const), (cs, synced, audienceClass) => {
      const shard = markSynced(fold(cs), [...synced] as Array<Email>, true)
      expect(shardDelta(shard, audienceClass)).toEqual(modelDelta(cs, synced, audienceClass))
    }), { numRuns: 500 })
  })

  it("gives the same shard for redeliveries in any order, and for any split into batches", () => {
    const arbCase = arbChanges.chain((cs) =>
      fc.tuple(
        fc.constant(cs),
        fc.shuffledSubarray([...cs, ...cs], { minLength: 2 * cs.length, maxLength: 2 * cs.length }),
        fc.array(fc.integer({ min: 0, max: Math.max(0, cs.length) }), { maxLength: 4 })
      )
    )
    fc.assert(fc.property(arbCase, ([cs, redelivered, cuts]) => {
      const once = fold(cs)
      expect(fold(redelivered)).toEqual(once)
      const bounds = [0, ...[...cuts].sort((a, b) => a - b), cs.length]
      let batched = emptyShard(audience, 0)
      for (let i = 1; i < bounds.length; i++) batched = fold(cs.slice(bounds[i - 1], bounds[i]), batched)
      expect(batched).toEqual(once)
    }), { numRuns: 300 })
  })

  it("leaves its input untouched, and folding in place gives the same shard", () => {
    fc.assert(fc.property(arbChanges, arbChanges, arbSynced, (first, second, synced) => {
      const base = markSynced(fold(first), [...synced] as Array<Email>, true)
      const snapshot = structuredClone(base)
      const copied = foldShard(base, second)
      expect(base).toEqual(snapshot)
      expect(foldShard(structuredClone(base), second, { inPlace: true })).toEqual(copied)
    }), { numRuns: 300 })
  })

  it("orders holders totally: the later of two words wins whichever arrives first", () => {
    const arbHolder = fc.record({ user: fc.constant("u"), member: fc.boolean(), timestamp: fc.integer({ min: 0, max: 3 }), messageId: fc.constantFrom("a", "b") })
    fc.assert(fc.property(arbHolder, arbHolder, (a, b) => {
      expect(Math.sign(compareHolders(a, b)) + Math.sign(compareHolders(b, a))).toBe(0)
      if (compareHolders(a, b) === 0) expect(a).toEqual(b)
    }))
    // Same time and message id, different words: membership wins, so a replayed pair cannot flap.
    const enter = change("u1", "a@x.io", true, 5, "m")
    const exit = change("u1", "a@x.io", false, 5, "m")
    expect(fold([enter, exit])).toEqual(fold([exit, enter]))
    expect(isDesired(fold([exit, enter]).emails["a@x.io"]!)).toBe(true)
  })

  it("shrinks the removals exactly by what was taken off the list", () => {
    fc.assert(fc.property(arbChanges, arbSynced, arbSynced, (cs, synced, done) => {
      const shard = markSynced(fold(cs), [...synced] as Array<Email>, true)
      const before = shardDelta(shard, "audience")
      const after = shardDelta(markSynced(shard, before.remove.filter((e) => done.has(e)), false), "audience")
      expect(after.remove).toEqual(before.remove.filter((e) => !done.has(e)))
      expect(after.add).toEqual(before.add)
    }), { numRuns: 300 })
  })

  it("costs nothing for an exit undone before the next sync", () => {
    let shard = markSynced(fold([change("u1", "a@x.io", true, 1)]), ["a@x.io" as Email], true)
    shard = fold([change("u1", "a@x.io", false, 2), change("u1", "a@x.io", true, 3)], shard)
    expect(shardDelta(shard, "audience")).toEqual({ add: [], remove: [] })
  })

  it("keeps a shared email wanted while one holder remains, before and after sync", () => {
    // Not yet on the list: u2's exit must not cancel u1's membership.
    const shard = fold([change("u1", "x@x.io", true, 1), change("u2", "x@x.io", true, 1), change("u2", "x@x.io", false, 2)])
    expect(shardDelta(shard, "audience").add).toEqual(["x@x.io"])
    expect(shard.emails["x@x.io"]?.holders.map((h) => [h.user, h.member])).toEqual([["u1", true], ["u2", false]])
  })
})
