// Rows Marketo refuses, emails held by duplicate leads, members without email, dead steps, and what the store holds.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { decodeStoredShard, encodeShard } from "../../../core/2-ledger/AudienceShards.js"
import { EmailRecord, LedgerShard } from "../../../core/2-ledger/LedgerShard.js"
import { getAudience } from "../../../core/5-tick/AudienceStatus.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import type { Email } from "../../../core/1-events/Email.js"
import { event, harness } from "./TickHarness.js"

describe("Sync: what Marketo refuses or holds twice, and what the store keeps", () => {
  it.effect("an import row Marketo refuses is not imported again, and the rest are on the list", () =>
    Effect.gen(function*() {
      const h = yield* harness({ refuse: new Map([["user7@example.com", "1003"]]) })
      yield* h.send(Array.from({ length: 1000 }, (_, i) => event("big", `u${i}`, [`user${i}@example.com`], true)))
      const first = yield* h.tick()
      expect(first.audiences[0]?.stepsDone).toBe(4) // folder, list, rows staged, one import
      yield* h.untilQuiet
      const big = Option.getOrThrow(yield* h.provide(getAudience("big" as AudienceKey)))
      expect(big).toMatchObject({ desired: 1000, synced: 999, refused: 1, pending: { add: 0, remove: 0 }, pendingImports: [] })
      const calls = (yield* h.control.state).calls
      yield* h.tick()
      expect((yield* h.control.state).calls).toBe(calls)
      expect((yield* h.control.members("big")).length).toBe(999)
    }))

  it.effect("an email held by duplicate leads in Marketo: every lead joins the list, and every lead leaves it", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.control.addLead("dup@example.com")
      yield* h.control.addLead("Dup@Example.com")
      yield* h.send([event("vip", "u1", ["dup@example.com"], true), event("vip", "u2", ["one@example.com"], true)])
      const first = yield* h.tick()
      // Folder, list, upsert, the lookup of the duplicated email, add: the summary counts real calls.
      expect(first.calls).toBe(5)
      expect((yield* h.control.state).calls).toBe(5)
      expect(yield* h.control.members("vip")).toEqual(["dup@example.com", "dup@example.com", "one@example.com"])
      const vip = Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey)))
      expect(vip).toMatchObject({ desired: 2, synced: 2, refused: 0 })
      yield* h.send([event("vip", "u1", ["dup@example.com"], false)])
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["one@example.com"])
    }))

  it.effect("members without email are counted once per user, leave like anyone, and any user id is data", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      yield* h.tick()
      // An earlier layout kept these in one value, already counted in the record.
      const legacy = { old1: { member: true, timestamp: 1, messageId: "x1" }, old2: { member: true, timestamp: 1, messageId: "x2" } }
      yield* h.inner.set(StateKeys.withoutEmailUnsharded("vip" as AudienceKey), JSON.stringify(legacy))
      const recordKey = StateKeys.audience("vip" as AudienceKey)
      const record = JSON.parse(Option.getOrThrow(yield* h.inner.get(recordKey)))
      yield* h.inner.set(recordKey, JSON.stringify({ ...record, withoutEmail: 2 }))
      yield* h.send([
        event("vip", "__proto__", [], true),
        event("vip", "constructor", [], true),
        event("vip", "old1", [], false),
        event("vip", "u9", [], true),
        event("vip", "u9", [], true)
      ])
      yield* h.tick()
      expect(Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey))).withoutEmail).toBe(4) // old2, __proto__, constructor, u9
      expect(yield* h.inner.get(StateKeys.withoutEmailUnsharded("vip" as AudienceKey))).toEqual(Option.none())
      expect((yield* h.inner.list("aud/vip/noemail/")).length).toBeGreaterThan(1)
      yield* h.send([event("vip", "__proto__", [], false), event("vip", "old2", [], false)])
      yield* h.tick()
      expect(Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey))).withoutEmail).toBe(2)
      expect(({} as Record<string, unknown>)["member"]).toBeUndefined()
    }))

  it.effect("a step that dies (a bug) stops its audience with the error recorded; the others go on", () =>
    Effect.gen(function*() {
      // A Marketo answer the interpreter cannot explain: no lead id and no reason for the email.
      const h = yield* harness(undefined, undefined, (api) => ({
        ...api,
        upsertLeads: (emails) => (emails.includes("bug@example.com" as Email) ? Effect.succeed([]) : api.upsertLeads(emails))
      }))
      yield* h.send([event("alpha", "u1", ["bug@example.com"], true), event("beta", "u2", ["ok@example.com"], true)])
      const summary = yield* h.tick()
      expect(summary.audiences.map((a) => [a.audience, a.error?.tag])).toEqual([["alpha", "StepDefect"], ["beta", undefined]])
      expect(summary.audiences[0]?.error?.message).toContain("no lead id known for 1 email(s), e.g. bug@example.com")
      expect(Option.getOrThrow(yield* h.provide(getAudience("alpha" as AudienceKey))).lastError).toMatchObject({ tag: "StepDefect", code: "defect" })
      expect(yield* h.control.members("beta")).toEqual(["ok@example.com"])
    }))

  it.effect("shards are written record by record as their schema encodes them, and read back as the schema would", () =>
    Effect.gen(function*() {
      const h = yield* harness({ refuse: new Map([["bad@example.com", "1003"]]), pollsUntilComplete: 5 })
      yield* h.control.addLead("dup@example.com")
      yield* h.control.addLead("dup@example.com")
      yield* h.send([event("vip", "d", ["dup@example.com"], true), event("vip", "b", ["bad@example.com"], true), event("vip", "x", ["gone@example.com"], false)])
      yield* h.tick() // upsert and add: two lead ids for dup, bad refused
      yield* h.send(Array.from({ length: 700 }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
      yield* h.tick() // an import, still running
      const keys = (yield* h.inner.list("aud/vip/shard/"))
      const values = [...(yield* h.inner.getMany(keys)).values()].map(Option.getOrThrow)
      // Bases are stored as lines, indexes as JSON: both read back as the schema describes them.
      const shards: Array<LedgerShard> = []
      for (const [i, v] of values.entries()) shards.push(Schema.decodeUnknownSync(LedgerShard)(yield* decodeStoredShard(v, keys[i]!)))
      const all = shards.flatMap((s) => Object.values(s.emails))
      // Every optional field occurs: lead ids (several for one email), a refusal, a running import.
      expect(all.some((r) => (r.leadIds?.length ?? 0) > 1)).toBe(true)
      expect(all.some((r) => r.refused !== undefined)).toBe(true)
      expect(all.some((r) => r.importing !== undefined)).toBe(true)
      // Written without the schema, each record is what the schema would write, and reads back whole.
      for (const shard of shards) {
        const written = encodeShard(shard.audience, shard)[1]
        const lines = written.split("\n").slice(1, -1)
        expect(lines).toHaveLength(Object.keys(shard.emails).length)
        for (const line of lines) {
          const [email, record] = line.split("\t") as [string, string]
          expect(record).toBe(JSON.stringify(Schema.encodeSync(EmailRecord)(shard.emails[JSON.parse(email) as string]!)))
        }
        expect(yield* decodeStoredShard(written, "k")).toEqual({ audience: shard.audience, shard: shard.shard, emails: shard.emails })
      }
      for (const bad of ["{", "[]", "null", JSON.stringify({ audience: "vip", shard: 1 }), JSON.stringify({ audience: "vip", shard: "1", emails: {} })]) {
        const error = yield* Effect.flip(decodeStoredShard(bad, "aud/vip/shard/0001"))
        expect(error).toMatchObject({ _tag: "StateStoreFailure", key: "aud/vip/shard/0001" })
        expect(error.message).toMatch(/^stored value does not decode/)
      }
    }))
})
