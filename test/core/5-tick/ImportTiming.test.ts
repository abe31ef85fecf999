// What a tick tells the planner of time for one audience: the adds waiting beyond the delta it
// plans include the rows of a staged file, so a load larger than a tick collects goes by import
// rather than having a slice of it upserted for a latency target the rest of it misses.
import { describe, expect, it } from "vitest"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ListId } from "../../../core/1-events/Ids.js"
import type { AudienceRecord, ShardCounts } from "../../../core/2-ledger/AudienceRecord.js"
import type { ImportRef } from "../../../core/2-ledger/ImportsInFlight.js"
import { audienceTag } from "../../../core/2-ledger/Inbox.js"
import { importUpperMillis, noImportLatency, observeImport } from "../../../core/3-plan/ImportLatency.js"
import { planAudience } from "../../../core/3-plan/Planner.js"
import type { PlannedEmail } from "../../../core/3-plan/PlannedEmail.js"
import { plannerTiming, stagingOf, type TimingContext } from "../../../core/5-tick/ImportTiming.js"

const counts = (pendingAdd: number): ShardCounts => ({ desired: pendingAdd, synced: 0, pendingAdd, pendingRemove: 0, importing: 0, refused: 0 })

const record = (pendingAdds: ReadonlyArray<number>, stagedRows?: number): AudienceRecord => ({
  key: "vip" as AudienceKey,
  audienceClass: "audience",
  listId: 7 as ListId,
  shardCount: pendingAdds.length,
  shards: Object.fromEntries(pendingAdds.map((n, i) => [String(i), counts(n)])),
  withoutEmail: 0,
  pendingImports: [],
  pendingSince: 0,
  ...(stagedRows === undefined
    ? {}
    : { staged: { ref: -1 as ImportRef, columns: [], parts: 3, rows: stagedRows, bytes: stagedRows * 25, since: 0, sample: [] } })
})

// A fresh instance (an import is thought to take 10 minutes), a minute into the 5-minute target,
// 100 calls a tick (500 before the target): upsert + add of 1,000 adds (8 calls) fits, an import
// would be confirmed late. 200,000 adds more cannot be added in 500 calls, even by known ids.
const ctx: TimingContext = { now: 60_000, tickMillis: 60_000, latencyTargetMillis: 5 * 60_000, perTickCalls: 100, latency: { current: noImportLatency } }

const adds = (n: number): ReadonlyArray<PlannedEmail> => Array.from({ length: n }, (_, i) => ({ email: `m${i}@example.com` as Email }))
const tags = (r: AudienceRecord, delta: ReadonlyArray<PlannedEmail>) =>
  [...new Set(planAudience({ audience: r.key, listName: "vip", folderName: "F", listId: 7 as ListId, add: delta, remove: [], pendingImports: [] }, { timing: plannerTiming(r, ctx, delta.length) }).steps.map((s) => s._tag))]

describe("plannerTiming: the adds waiting beyond the delta", () => {
  it("counts the pending adds the delta does not hold, and the rows of a staged file", () => {
    expect(plannerTiming(record([600, 400]), ctx, 1_000).addsBeyond).toBe(0)
    expect(plannerTiming(record([60_000, 40_000]), ctx, 1_000).addsBeyond).toBe(99_000)
    expect(plannerTiming(record([600, 400], 200_000), ctx, 1_000).addsBeyond).toBe(200_000)
  })

  it("upserts a delta that is all that waits, and imports one a staged file's rows wait behind", () => {
    const delta = adds(1_000)
    expect(tags(record([600, 400]), delta)).toEqual(["UpsertLeads", "AddToList"])
    expect(tags(record([600, 400], 200_000), delta)).toEqual(["ImportLeads"])
    expect(tags(record([120_000, 80_000]), delta)).toEqual(["ImportLeads"])
  })
})

describe("stagingOf: when a part-full staged file goes for the latency target", () => {
  // Imports here are known to take 30 s: a file staged at 0 is confirmed within the 5-minute
  // target if sent by 3.5 min (30 s, then a tick's poll); at 3 min 20 s a tick is its last chance.
  const fast = { current: observeImport(noImportLatency, 200_000, 30_000, true, 0) }
  const staged = record([50_000, 50_000], 200_000)
  const delta = { audience: staged.key, listName: "vip", folderName: "F", listId: 7 as ListId, add: adds(1_000), remove: [], pendingImports: [] }
  const at = (now: number, folding: boolean) =>
    stagingOf(staged, delta, { ...ctx, now, latency: fast, ...(folding ? { inboxWaiting: new Set([audienceTag(staged.key)]) } : {}) })

  it("goes at its last chance to meet the target while only the ledger holds more adds", () => {
    expect(importUpperMillis(fast.current, 200_000)).toBe(30_000)
    expect(at(150_000, false)).toMatchObject({ more: true, sendNow: false })
    expect(at(200_000, false)).toMatchObject({ more: true, sendNow: true })
  })

  it("waits to be filled while the fold is behind with the audience, up to twice the target", () => {
    expect(at(200_000, true)).toMatchObject({ more: true, sendNow: false })
    expect(at(9 * 60_000, true).sendNow).toBe(false)
    expect(at(10 * 60_000, true).sendNow).toBe(true)
  })
})
