// Lead field values in the ledger: last writer wins per field, whatever the order, duplicates or
// batches; an absent value never blanks one; and the pending mark is never lost while the values
// differ from those last sent.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import type { LeadFieldValues } from "../../../core/1-events/LeadFields.js"
import { MembershipChange } from "../../../core/1-events/MembershipChange.js"
import { fieldsDigest, fieldValues, mergeFields, sendableFields } from "../../../core/2-ledger/LeadFieldRecord.js"
import { emptyShard, foldShard, markFieldsSent, markSynced, shardCounts } from "../../../core/2-ledger/Ledger.js"
import type { LedgerShard } from "../../../core/2-ledger/LedgerShard.js"

const audience = "vip" as AudienceKey
const change = (user: string, email: string, member: boolean, timestamp: number, fields?: LeadFieldValues, messageId = `${user}-${timestamp}`) =>
  new MembershipChange({ audience, audienceClass: "audience", user, email: email as Email, member, timestamp, messageId, ...(fields === undefined ? {} : { fields }) })
const fold = (changes: ReadonlyArray<MembershipChange>, from: LedgerShard = emptyShard(audience, 0)) => foldShard(from, changes)

const arbFields = fc.option(
  fc.dictionary(fc.constantFrom("firstName", "lastName", "city"), fc.constantFrom("Ada", "Grace", "Alan", "a, \"b\"\nc"), { minKeys: 1, maxKeys: 3 }),
  { nil: undefined }
)
const arbChange = fc.record({
  user: fc.constantFrom("u1", "u2"),
  email: fc.constantFrom("a@x.io", "b@x.io"),
  member: fc.boolean(),
  timestamp: fc.integer({ min: 0, max: 4 }),
  fields: arbFields
}).map((c) => change(c.user, c.email, c.member, c.timestamp, c.fields))
const arbChanges = fc.array(arbChange, { maxLength: 30 })

/** What every email should hold: per field, the value of the latest change by (time, then value). */
const model = (changes: ReadonlyArray<MembershipChange>) => {
  const out = new Map<string, Map<string, readonly [string, number]>>()
  for (const c of changes) {
    for (const [name, value] of Object.entries(c.fields ?? {})) {
      const fields = out.get(c.email) ?? new Map<string, readonly [string, number]>()
      out.set(c.email, fields)
      const current = fields.get(name)
      if (current === undefined || c.timestamp > current[1] || (c.timestamp === current[1] && value > current[0])) fields.set(name, [value, c.timestamp])
    }
  }
  return out
}
const fieldsOf = (shard: LedgerShard) => Object.fromEntries(Object.entries(shard.emails).map(([e, r]) => [e, r.fields]))

describe("lead fields in the ledger", () => {
  it("per field, the latest value wins (by time, then value) whatever the order, redeliveries or batches", () => {
    fc.assert(fc.property(arbChanges.chain((cs) => fc.tuple(fc.constant(cs), fc.shuffledSubarray(cs, { minLength: cs.length, maxLength: cs.length }))), fc.nat(30), ([cs, shuffled], cut) => {
      const once = fold(cs)
      expect(fieldsOf(fold(shuffled))).toEqual(fieldsOf(once))
      expect(fieldsOf(fold([...cs, ...cs]))).toEqual(fieldsOf(once))
      expect(fieldsOf(fold(cs.slice(cut), fold(cs.slice(0, cut))))).toEqual(fieldsOf(once))
      const expected = model(cs)
      for (const [email, record] of Object.entries(once.emails)) {
        expect(record.fields === undefined ? {} : record.fields).toEqual(Object.fromEntries(expected.get(email) ?? []))
      }
    }), { numRuns: 300 })
  })

  it("a change without a value leaves the field as it was: nothing is ever blanked", () => {
    const shard = fold([change("u1", "a@x.io", true, 1, { firstName: "Ada", lastName: "Lovelace" }), change("u1", "a@x.io", true, 2, { firstName: "Augusta" })])
    expect(fieldValues(shard.emails["a@x.io"]!.fields)).toEqual({ firstName: "Augusta", lastName: "Lovelace" })
    // An older event that arrives late still fills a field no newer one has set, and loses the rest.
    const late = fold([change("u1", "a@x.io", true, 0, { firstName: "Old", city: "London" })], shard)
    expect(fieldValues(late.emails["a@x.io"]!.fields)).toEqual({ firstName: "Augusta", lastName: "Lovelace", city: "London" })
    expect(mergeFields(late.emails["a@x.io"]!.fields, { firstName: "Augusta" }, 2)).toBeUndefined()
  })

  it("the pending mark is set by a changed value, cleared by a send of the current values only, and never lost while values differ from those sent", () => {
    fc.assert(fc.property(arbChanges, arbChanges, fc.array(fc.boolean(), { maxLength: 10 }), (first, later, sends) => {
      let shard = fold(first)
      const emails = Object.keys(shard.emails) as Array<Email>
      shard = markSynced(shard, emails, true)
      const sentValues = new Map<string, string>()
      const send = () => {
        const sent = emails.map((email) => ({ email, digest: fieldsDigest(shard.emails[email]!.fields) }))
        for (const email of emails) sentValues.set(email, JSON.stringify(fieldValues(shard.emails[email]!.fields)))
        shard = markFieldsSent(shard, sent)
      }
      send()
      const stale = emails.map((email) => ({ email, digest: fieldsDigest(shard.emails[email]!.fields) }))
      for (const [i, c] of later.entries()) {
        shard = fold([c], shard)
        if (sends[i] === true) send()
        // A send journaled before this change, applied again (a replay), clears nothing it should not.
        shard = markFieldsSent(shard, stale)
      }
      for (const email of emails) {
        const record = shard.emails[email]!
        const differs = JSON.stringify(fieldValues(record.fields)) !== sentValues.get(email)
        if (differs) expect(record.fieldsPending).toBe(true)
      }
    }), { numRuns: 300 })
  })

  it("counts on-list, wanted emails with pending fields as updates; not before the add, not after the send", () => {
    let shard = fold([change("u1", "a@x.io", true, 1, { firstName: "Ada" }), change("u2", "b@x.io", true, 1, { firstName: "Grace" })])
    expect(shardCounts(shard, "audience").pendingUpdate).toBe(0)
    shard = markSynced(shard, ["a@x.io", "b@x.io"] as Array<Email>, true)
    expect(shardCounts(shard, "audience").pendingUpdate).toBe(2)
    shard = markFieldsSent(shard, [{ email: "a@x.io" as Email, digest: fieldsDigest(shard.emails["a@x.io"]!.fields) }])
    expect(shardCounts(shard, "audience").pendingUpdate).toBe(1)
    shard = fold([change("u1", "a@x.io", true, 2, { firstName: "Ada" })], shard)
    expect(shard.emails["a@x.io"]!.fieldsPending).toBeUndefined() // same value, newer time: nothing to send
    shard = fold([change("u1", "a@x.io", false, 3, { firstName: "Augusta" })], shard)
    expect(shardCounts(shard, "audience").pendingUpdate).toBe(1) // no longer wanted: only b waits
  })

  it("sends only the fields the instance accepts, in the configured order", () => {
    const shard = fold([change("u1", "a@x.io", true, 1, { lastName: "Lovelace", firstName: "Ada", fax: "1" })])
    expect(Object.entries(sendableFields(shard.emails["a@x.io"]!.fields, ["firstName", "lastName"])!)).toEqual([["firstName", "Ada"], ["lastName", "Lovelace"]])
    expect(sendableFields(shard.emails["a@x.io"]!.fields, ["city"])).toBeUndefined()
    expect(fieldsDigest({ a: ["x", 1] })).not.toBe(fieldsDigest({ a: ["y", 1] }))
    expect(fieldsDigest({ a: ["x", 1], b: ["y", 2] })).toBe(fieldsDigest({ b: ["y", 2], a: ["x", 1] }))
    expect(fieldsDigest({ a: ["x", 1] })).not.toBe(fieldsDigest({ a: ["x", 2] }))
  })
})
