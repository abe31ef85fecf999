// Applying step effects to in-memory ledger shards: the pure half of checkpointing.
import type { Email } from "../1-events/Email.js"
import type { ImportId } from "../2-ledger/ImportsInFlight.js"
import { markFieldsSent, markSynced, rememberLeadIds, type UpdateOptions } from "../2-ledger/Ledger.js"
import type { EmailRecord, LedgerShard, ShardSet } from "../2-ledger/LedgerShard.js"
import { type ShardLayout, shardOf } from "../2-ledger/Sharding.js"
import type { StepEffect } from "./StepEffect.js"

const byShard = <A>(items: ReadonlyArray<A>, emailOf: (a: A) => Email, shardCount: ShardLayout) => {
  const groups = new Map<number, Array<A>>()
  for (const item of items) {
    const n = shardOf(emailOf(item), shardCount)
    const group = groups.get(n)
    if (group === undefined) groups.set(n, [item])
    else group.push(item)
  }
  return groups
}

const updateEach = (shards: ShardSet, shardCount: ShardLayout, emails: ReadonlyArray<Email>, f: (shard: LedgerShard, emails: ReadonlyArray<Email>) => LedgerShard) => {
  for (const [n, group] of byShard(emails, (e) => e, shardCount)) {
    const shard = shards.get(n)
    if (shard !== undefined) shards.set(n, f(shard, group))
  }
}

/** Every record through `f`: into a copy of the shard, or into the shard itself when the caller owns it. */
const mapRecords = (shard: LedgerShard, f: (record: EmailRecord, email: string) => EmailRecord, options: UpdateOptions): LedgerShard => {
  if (options.inPlace === true) {
    const emails = shard.emails as Record<string, EmailRecord>
    for (const email of Object.keys(emails)) {
      const before = emails[email]!
      const after = f(before, email)
      if (after !== before) emails[email] = after
    }
    return shard
  }
  let changed = false
  const emails: Record<string, EmailRecord> = {}
  for (const email of Object.keys(shard.emails)) {
    const before = shard.emails[email]!
    const after = f(before, email)
    if (after !== before) changed = true
    emails[email] = after
  }
  return changed ? { ...shard, emails } : shard
}

const withRecords = (emails: ReadonlyArray<Email>, f: (record: EmailRecord) => EmailRecord, options: UpdateOptions) => (shard: LedgerShard) => {
  const wanted = new Set<string>(emails)
  return mapRecords(shard, (record, email) => (wanted.has(email) ? f(record) : record), options)
}

const clearImport = (record: EmailRecord): EmailRecord => {
  const { importing: _done, ...rest } = record
  return rest
}

/** Off the list as far as the ledger knows, nothing in flight: what a record becomes when its list is lost. */
const offTheList = (record: EmailRecord): EmailRecord => {
  if (!record.synced && record.importing === undefined && record.importFailed === undefined) return record
  const { importing: _i, importFailed: _f, ...rest } = record
  return { ...rest, synced: false }
}

const marked = (ids: ReadonlySet<number>) => (record: EmailRecord): EmailRecord =>
  record.importing !== undefined && ids.has(record.importing) ? clearImport(record) : record

/**
 * Mutates `shards` (a working copy owned by the caller) so each effect is reflected. With
 * `inPlace`, the caller owns the shards themselves too (just decoded) and they are changed rather
 * than replaced by copies.
 */
export const applyEffect = (shards: ShardSet, shardCount: ShardLayout, effect: StepEffect, options: UpdateOptions = {}): void => {
  switch (effect._tag) {
    case "ListEnsured":
      return
    case "LeadIdsLearned":
      for (const [n, group] of byShard(effect.ids, (i) => i.email, shardCount)) {
        const shard = shards.get(n)
        if (shard !== undefined) shards.set(n, rememberLeadIds(shard, group, options))
      }
      return
    case "EmailsRefused":
      for (const [n, group] of byShard(effect.refused, (r) => r.email, shardCount)) {
        const shard = shards.get(n)
        if (shard === undefined) continue
        const codes = new Map(group.map((r) => [r.email as string, r.code]))
        shards.set(n, mapRecords(shard, (record, email) => {
          const code = codes.get(email)
          return code === undefined ? record : { ...clearImport(record), refused: code }
        }, options))
      }
      return
    case "MembershipConfirmed":
      return updateEach(shards, shardCount, effect.emails, (shard, emails) => markSynced(shard, emails, effect.synced, options))
    case "ImportStaged":
    case "ImportSending":
      return updateEach(shards, shardCount, effect.emails, (shard, emails) => withRecords(emails, (r) => ({ ...r, importing: effect.ref }), options)(shard))
    case "ImportStarted": {
      const batchId = effect.batchIds[0]
      if (batchId === undefined) return
      return updateEach(shards, shardCount, effect.emails, (shard, emails) => withRecords(emails, (r) => ({ ...r, importing: batchId }), options)(shard))
    }
    case "ImportNotSent":
      for (const [n, shard] of shards) shards.set(n, mapRecords(shard, marked(new Set([effect.ref])), options))
      return
    case "ImportChecked":
    case "StagedSending":
    case "StagedStarted":
    case "StagedPartsDeleted":
      return
    case "ImportEnded": {
      // A row the import refused is sent by upsert + add instead: its own answer says whether
      // Marketo takes the address (and a refusal there is recorded as one).
      const failed = new Map(effect.failed.map((f) => [f.email as string, f.code]))
      const mark = effect.ref ?? effect.batchId
      const ended = (record: EmailRecord, email: string): EmailRecord => {
        if (record.importing !== mark) return record
        if (effect.status === "Failed") return clearImport(record)
        const code = failed.get(email)
        return code === undefined ? { ...clearImport(record), synced: true } : { ...clearImport(record), importFailed: code }
      }
      for (const [n, shard] of shards) shards.set(n, mapRecords(shard, ended, options))
      return
    }
    case "FieldsSent":
      for (const [n, group] of byShard(effect.sent, (s) => s.email, shardCount)) {
        const shard = shards.get(n)
        if (shard !== undefined) shards.set(n, markFieldsSent(shard, group, options))
      }
      return
    case "ListLost":
      for (const [n, shard] of shards) shards.set(n, mapRecords(shard, offTheList, options))
      return
  }
}

export const importingBatches = (shard: LedgerShard): ReadonlySet<ImportId> => {
  const ids = new Set<ImportId>()
  for (const record of Object.values(shard.emails)) if (record.importing !== undefined) ids.add(record.importing)
  return ids
}
