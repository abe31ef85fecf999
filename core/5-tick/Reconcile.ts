// Drift repair: people edit lists by hand in Marketo. Reading the list's members back (paged)
// and setting each ledger record's `synced` flag to what Marketo really holds makes the next tick
// plan exactly the adds and removes that make the list right again. Members the ledger does not
// know are recorded with no holder, so the next tick removes them; members without a usable
// email are removed at once by lead id.
import { layoutOf } from "../2-ledger/ShardSplit.js"
import { Effect, Either, Option } from "effect"
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import { encodeRecord, readRecord, withShardCounts } from "../2-ledger/AudienceShards.js"
import { compactedEntries, loadParts, merged } from "../2-ledger/PendingIndex.js"
import type { Email } from "../1-events/Email.js"
import { normalizeEmail } from "../1-events/EmailNormalizer.js"
import type { AudienceKey, LeadId } from "../1-events/Ids.js"
import type { EmailRecord } from "../2-ledger/LedgerShard.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { MarketoApi } from "../ports/MarketoApi.js"
import { StateStore } from "../ports/StateStore.js"
import { shardOf } from "../2-ledger/Sharding.js"

export interface ReconcileReport {
  readonly audience: AudienceKey
  readonly membersRead: number
  readonly calls: number
  /** Emails the ledger believed on the list that were not, and the reverse. */
  readonly missing: number
  readonly unexpected: number
  /** Members without a usable email, removed by lead id. */
  readonly strays: number
}

/** Calls a reconcile will make for a list of about `members`: one per page of 300 (at least one). */
export const reconcileCalls = (members: number): number => Math.max(1, Math.ceil((members + 1) / MarketoLimits.batchSize))

export const reconcileCost = (record: AudienceRecord): number =>
  reconcileCalls(Object.values(record.shards).reduce((n, c) => n + c.synced, 0))

export const reconcileAudience = Effect.fn("Reconcile.audience")(function*(key: AudienceKey) {
  const api = yield* MarketoApi
  const store = yield* StateStore
  const found = yield* readRecord(key)
  if (Option.isNone(found) || found.value.listId === undefined) return Option.none<ReconcileReport>()
  const record = found.value
  const listId = record.listId!

  // Every member, by normalised email; members without a usable email are strays.
  const onList = new Map<Email, Array<LeadId>>()
  const strays: Array<LeadId> = []
  let calls = 0
  let token: string | undefined
  do {
    const page = yield* api.listMembers(listId, token)
    calls++
    for (const member of page.members) {
      const email = member.email === null ? Either.left("no email") : normalizeEmail(member.email)
      if (Either.isLeft(email)) strays.push(member.leadId)
      else onList.set(email.right, [...(onList.get(email.right) ?? []), member.leadId])
    }
    token = page.members.length === 0 ? undefined : page.nextPageToken
  } while (token !== undefined)
  for (let i = 0; i < strays.length; i += MarketoLimits.batchSize) {
    yield* api.removeFromList(listId, strays.slice(i, i + MarketoLimits.batchSize))
    calls++
  }

  // Shard by shard: the synced flag becomes what Marketo holds; unknown members are recorded.
  const byShard = new Map<number, Array<Email>>()
  for (const email of onList.keys()) {
    const n = shardOf(email, layoutOf(record))
    byShard.set(n, [...(byShard.get(n) ?? []), email])
  }
  const shardNumbers = [...new Set([...Object.keys(record.shards).map(Number), ...byShard.keys()])].sort((a, b) => a - b)
  let missing = 0
  let unexpected = 0
  let next = record
  for (const n of shardNumbers) {
    // The whole shard (its base and pending index), written back compacted.
    const { base, index } = (yield* loadParts(key, [n], record.audienceClass)).get(n)!
    const shard = merged(base, index)
    const emails: Record<string, EmailRecord> = { ...shard.emails }
    for (const [email, rec] of Object.entries(emails)) {
      const ids = onList.get(email as Email)
      const present = ids !== undefined
      if (rec.synced && !present) missing++
      if (rec.synced !== present || (present && rec.leadIds === undefined)) {
        emails[email] = { ...rec, synced: present, ...(present ? { leadIds: ids } : {}) }
      }
    }
    for (const email of byShard.get(n) ?? []) {
      if (Object.prototype.hasOwnProperty.call(emails, email)) continue
      unexpected++
      emails[email] = { holders: [], synced: true, leadIds: onList.get(email)! }
    }
    const updated = new Map([[n, { ...shard, emails }]])
    next = withShardCounts(next, updated)
    yield* store.setMany([...compactedEntries(key, updated.get(n)!, record.audienceClass), encodeRecord(next)])
  }
  // Records the ledger thought on the list but Marketo lacks are re-added by the next tick.
  const report: ReconcileReport = { audience: key, membersRead: [...onList.values()].reduce((s, ids) => s + ids.length, 0) + strays.length, calls, missing, unexpected, strays: strays.length }
  yield* Effect.logInfo("reconciled").pipe(Effect.annotateLogs({ ...report }))
  return Option.some(report)
})
