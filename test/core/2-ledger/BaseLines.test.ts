// A base stored as sorted lines says exactly what the shard says: every record found by search,
// nothing found that is not there, a splice equal to writing the whole shard again; and a fold of
// a few changes into a large base parses those records only, not the base.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import fc from "fast-check"
import { afterEach, vi } from "vitest"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import type { MembershipEvent } from "../../../core/1-events/MembershipChange.js"
import { encodeBaseLines, isBaseLines, readBaseLines, wholeBase } from "../../../core/2-ledger/BaseLines.js"
import type { EmailRecord, LedgerShard } from "../../../core/2-ledger/LedgerShard.js"
import { compactedEntries, indexEntry } from "../../../core/2-ledger/PendingIndex.js"
import { shardOf } from "../../../core/2-ledger/Sharding.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { foldAudience, foldCompactionsPerTick } from "../../../core/5-tick/FoldAudience.js"
import { reasonOf } from "../../../core/5-tick/FailureReason.js"
import { StateStore } from "../../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"

const key = "vip" as AudienceKey

// Emails with what JSON must escape or sorts oddly: quotes, backslashes, tabs, non-ASCII, astral.
const local = fc.stringMatching(/^[a-z0-9"\\\t\u00e9\u4e2d\u{1F600}.+-]{1,6}$/u)
const emailArb = local.map((l) => `${l}@example.com`)
const recordArb: fc.Arbitrary<EmailRecord> = fc.record({
  holders: fc.array(fc.record({ user: fc.string({ maxLength: 4 }), member: fc.boolean(), timestamp: fc.integer({ min: 0, max: 99 }), messageId: fc.string({ maxLength: 4 }) }), { maxLength: 2 }),
  synced: fc.boolean()
})
const emailsArb = fc.dictionary(emailArb, recordArb, { maxKeys: 30 })
const shardOfEmails = (emails: Record<string, EmailRecord>): LedgerShard => ({ audience: key, shard: 3, emails })

describe("BaseLines: a base as sorted lines", () => {
  it.prop("reads back whole, finds every record it holds and none it does not", [emailsArb, fc.array(emailArb, { maxLength: 10 })], ([emails, others]) => {
    const text = encodeBaseLines(shardOfEmails(emails))
    expect(isBaseLines(text)).toBe(true)
    const base = readBaseLines(text)
    expect(base.size).toBe(Object.keys(emails).length)
    expect(base.whole()).toEqual(shardOfEmails(emails))
    for (const email of [...Object.keys(emails), ...others]) {
      expect(base.get(email)).toEqual(emails[email])
      expect(base.has(email)).toBe(emails[email] !== undefined)
    }
  })

  it.prop("a splice of records writes what encoding the whole shard again writes, for a base in lines or one written before them", [emailsArb, emailsArb], ([emails, changed]) => {
    const expected = encodeBaseLines(shardOfEmails({ ...emails, ...changed }))
    for (const base of [readBaseLines(encodeBaseLines(shardOfEmails(emails))), wholeBase(shardOfEmails(emails))]) {
      const spliced = base.withRecords(changed)
      expect(spliced.text).toBe(expected)
      expect(spliced.size).toBe(Object.keys({ ...emails, ...changed }).length)
    }
  })

  it.prop("a splice into a base of hundreds of lines (its search strides forward from the last key) writes the same", [
    fc.dictionary(emailArb, recordArb, { minKeys: 200, maxKeys: 600 }),
    fc.dictionary(emailArb, recordArb, { maxKeys: 300 })
  ], ([emails, changed]) => {
    const spliced = readBaseLines(encodeBaseLines(shardOfEmails(emails))).withRecords(changed)
    expect(spliced.text).toBe(encodeBaseLines(shardOfEmails({ ...emails, ...changed })))
    expect(spliced.size).toBe(Object.keys({ ...emails, ...changed }).length)
  }, { fastCheck: { numRuns: 40 } })

  it("a shard as one JSON object, or a pending index, is not taken for lines", () => {
    const shard = shardOfEmails({ "a@example.com": { holders: [], synced: true } })
    expect(isBaseLines(JSON.stringify(shard))).toBe(false)
    expect(isBaseLines(JSON.stringify({ ...shard, emails: { "\"format\":\"lines\"@x": { holders: [], synced: true } } }))).toBe(false)
    expect(isBaseLines(encodeBaseLines({ ...shard, emails: {} }))).toBe(true)
    expect(readBaseLines(encodeBaseLines({ ...shard, emails: {} })).whole().emails).toEqual({})
  })
})

describe("BaseLines: a corrupt base", () => {
  it.effect("a corrupt line is a StateStoreFailure naming the key when looked up, and the fold of that audience fails with it", () =>
    Effect.gen(function*() {
      const store = yield* StateStore
      const emails: Record<string, EmailRecord> = {}
      const inShard = Array.from({ length: 2_000 }, (_, i) => `c${i}@example.com` as Email).filter((e) => shardOf(e, 64) === 5).slice(0, 3)
      // Members on the list with no work left: only the base holds them, not the pending index.
      for (const [i, e] of inShard.entries()) emails[e] = { holders: [{ user: `u${i}`, member: true, timestamp: 1, messageId: `m${i}` }], synced: true }
      const text = encodeBaseLines({ audience: key, shard: 5, emails })
      const broken = text.replace(`"${inShard[1]}"\t{`, `"${inShard[1]}"\t{oops`)
      expect(() => readBaseLines(broken, "aud/vip/shard/5").get(inShard[1]!)).toThrow(expect.objectContaining({ _tag: "StateStoreFailure", key: "aud/vip/shard/5" }))
      // The other lines still read.
      expect(readBaseLines(broken, "aud/vip/shard/5").get(inShard[0]!)).toEqual(emails[inShard[0]!])
      yield* store.setMany(compactedEntries(key, { audience: key, shard: 5, emails }, "audience"))
      yield* store.set(StateKeys.shard(key, 5), broken)
      const event: MembershipEvent = { audience: key, audienceClass: "audience", user: "u1", member: false, timestamp: 2, messageId: "n1", emails: [inShard[1]!] }
      const folded = yield* Effect.exit(foldAudience(key, [event], 0))
      expect(folded._tag).toBe("Failure")
      expect(reasonOf((folded as Extract<typeof folded, { _tag: "Failure" }>).cause)).toMatchObject({ tag: "StateStoreFailure" })
      expect(reasonOf((folded as Extract<typeof folded, { _tag: "Failure" }>).cause).message).toContain("stored record does not decode")
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())))
})

describe("BaseLines: work proportional to change", () => {
  afterEach(() => vi.restoreAllMocks())

  it.effect("a fold of 3 changes into a shard of 5,000 emails parses a few records, not the base", () =>
    Effect.gen(function*() {
      const store = yield* StateStore
      const inShard = Array.from({ length: 400_000 }, (_, i) => `m${i}@example.com` as Email).filter((e) => shardOf(e, 64) === 7).slice(0, 5_000)
      const emails: Record<string, EmailRecord> = {}
      for (const [i, e] of inShard.entries()) emails[e] = { holders: [{ user: `u${i}`, member: true, timestamp: 1, messageId: `m${i}` }], synced: true }
      yield* store.setMany(compactedEntries(key, { audience: key, shard: 7, emails }, "audience"))
      const baseBytes = Option.getOrThrow(yield* store.get(StateKeys.shard(key, 7))).length
      const event = (i: number, member: boolean): MembershipEvent => ({
        audience: key, audienceClass: "audience", user: `u${i}`, member, timestamp: 2, messageId: `n${i}`, emails: [inShard[i]!]
      })
      // Counted: the characters every JSON.parse of the fold is given.
      let parsed = 0
      const parse = JSON.parse
      vi.spyOn(JSON, "parse").mockImplementation((text: string, reviver?: Parameters<typeof JSON.parse>[1]) => {
        parsed += text.length
        return parse(text, reviver)
      })
      yield* foldAudience(key, [event(10, false), event(2_000, false), event(4_999, false)], 0)
      vi.restoreAllMocks()
      expect(parsed).toBeGreaterThan(0)
      expect(parsed).toBeLessThan(baseBytes / 50)
      const index = JSON.parse(Option.getOrThrow(yield* store.get(StateKeys.shardPending(key, 7)))) as LedgerShard
      expect(Object.keys(index.emails).sort()).toEqual([inShard[10], inShard[2_000], inShard[4_999]].sort())
      expect(index.size).toBe(5_000)
      expect(index.outside).toMatchObject({ desired: 4_997, synced: 4_997 })
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())))
})

describe("BaseLines: compactions spread over ticks", () => {
  it.effect("one fold compacts at most its share of shards; the others wait for the next ticks, and nothing is lost", () =>
    Effect.gen(function*() {
      const store = yield* StateStore
      // 24 shards whose indexes each hold 200 settled records (over the threshold of 128), bases empty.
      const shards = Array.from({ length: 24 }, (_, n) => n)
      const emailsOf = new Map<number, Array<Email>>(shards.map((n) => [n, []]))
      for (let i = 0; [...emailsOf.values()].some((es) => es.length < 201); i++) {
        const e = `s${i}@example.com` as Email
        const list = emailsOf.get(shardOf(e, 64))
        if (list !== undefined && list.length < 201) list.push(e)
      }
      const settled = { desired: 0, synced: 0, pendingAdd: 0, pendingRemove: 0, importing: 0, refused: 0, pendingUpdate: 0 }
      for (const n of shards) {
        const emails: Record<string, EmailRecord> = {}
        for (const [i, e] of emailsOf.get(n)!.slice(0, 200).entries()) emails[e] = { holders: [{ user: `${n}-${i}`, member: true, timestamp: 1, messageId: `m${n}-${i}` }], synced: true }
        yield* store.setMany([indexEntry(key, { audience: key, shard: n, emails, outside: settled, size: 200 })])
      }
      const bases = () => Effect.map(store.list(`aud/${key}/shard/`), (keys) => keys.filter((k) => !k.endsWith("/pending") && !k.endsWith("/filter")).length)
      const enter = (tick: number): ReadonlyArray<MembershipEvent> => shards.map((n) => ({
        audience: key, audienceClass: "audience", user: `new${n}-${tick}`, member: true, timestamp: 2 + tick, messageId: `e${n}-${tick}`, emails: [emailsOf.get(n)![200]!]
      }))
      yield* foldAudience(key, enter(0), 0)
      expect(yield* bases()).toBe(foldCompactionsPerTick)
      yield* foldAudience(key, enter(1), 0)
      expect(yield* bases()).toBe(24)
      // Every record is still there, base or index, with the second holder of each 201st email.
      for (const n of shards) {
        const base = readBaseLines(Option.getOrThrow(yield* store.get(StateKeys.shard(key, n))))
        const index = JSON.parse(Option.getOrThrow(yield* store.get(StateKeys.shardPending(key, n)))) as LedgerShard
        expect(index.size).toBe(201)
        for (const e of emailsOf.get(n)!.slice(0, 200)) expect(base.get(e)?.synced).toBe(true)
        expect((index.emails[emailsOf.get(n)![200]!] ?? base.get(emailsOf.get(n)![200]!))?.holders).toHaveLength(2)
      }
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())))
})
