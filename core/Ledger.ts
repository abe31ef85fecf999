// The audience ledger, one shard at a time. Per (user, email) the latest word wins by the total
// order (timestamp, messageId, member): a deterministic tie-break, so folding is commutative,
// associative and idempotent — redeliveries and reorderings change nothing. An email is desired
// while at least one user holds it as a member (reference count), so one user leaving does not
// remove an address another member still has.
import type { Email } from "./Email.js"
import type { AudienceClass, AudienceKey, LeadId } from "./Ids.js"
import type { EmailRecord, Holder, LedgerShard } from "./LedgerShard.js"
import type { MembershipChange } from "./MembershipChange.js"

export const emptyShard = (audience: AudienceKey, shard: number): LedgerShard => ({ audience, shard, emails: {} })

/** Negative when `a` is older than `b` in the last-writer-wins order. */
export const compareHolders = (a: Holder, b: Holder): number =>
  a.timestamp !== b.timestamp
    ? a.timestamp - b.timestamp
    : a.messageId !== b.messageId
    ? (a.messageId < b.messageId ? -1 : 1)
    : Number(a.member) - Number(b.member)

type MutableEmails = Record<string, EmailRecord>

const own = (emails: MutableEmails, email: string): EmailRecord | undefined =>
  Object.prototype.hasOwnProperty.call(emails, email) ? emails[email] : undefined

/**
 * Fold changes into a shard. By default the shard is left as it was and a new one returned; a
 * caller that owns the shard (it decoded it just now) may pass `inPlace` to skip copying every
 * record, which dominates the cost of small batches against large shards.
 */
export const foldShard = (shard: LedgerShard, changes: ReadonlyArray<MembershipChange>, options: { readonly inPlace?: boolean } = {}): LedgerShard => {
  if (changes.length === 0) return shard
  const emails: MutableEmails = options.inPlace === true ? shard.emails as MutableEmails : { ...shard.emails }
  for (const change of changes) {
    const incoming: Holder = { user: change.user, member: change.member, timestamp: change.timestamp, messageId: change.messageId }
    const record = own(emails, change.email)
    if (record === undefined) {
      emails[change.email] = { holders: [incoming], synced: false }
      continue
    }
    const at = record.holders.findIndex((h) => h.user === change.user)
    const current = at < 0 ? undefined : record.holders[at]
    if (current !== undefined && compareHolders(current, incoming) >= 0) continue
    const holders = [...record.holders]
    if (at >= 0) holders[at] = incoming
    else {
      // Holders stay sorted by user, so the stored shard does not depend on arrival order.
      const before = holders.findIndex((h) => h.user > change.user)
      holders.splice(before < 0 ? holders.length : before, 0, incoming)
    }
    // A newer word about the email lifts an earlier refusal by Marketo: the address is tried again.
    const { refused: _refused, ...rest } = record
    emails[change.email] = { ...rest, holders }
  }
  return options.inPlace === true ? shard : { ...shard, emails }
}

export const isDesired = (record: EmailRecord): boolean => record.holders.some((h) => h.member)

export interface ShardDelta {
  readonly add: ReadonlyArray<Email>
  readonly remove: ReadonlyArray<Email>
}

/**
 * Desired and not on the list → add (unless a running import carries it or Marketo refused it);
 * on the list and not desired → remove. Journey-step lists only ever grow.
 */
export const shardDelta = (shard: LedgerShard, audienceClass: AudienceClass): ShardDelta => {
  const add: Array<Email> = []
  const remove: Array<Email> = []
  const emails = shard.emails
  for (const email in emails) {
    const record = emails[email]!
    const desired = isDesired(record)
    if (desired && !record.synced && record.importing === undefined && record.refused === undefined) add.push(email as Email)
    else if (!desired && record.synced && audienceClass === "audience") remove.push(email as Email)
  }
  return { add: add.sort(), remove: remove.sort() }
}

const updateRecords = (
  shard: LedgerShard,
  emails: ReadonlyArray<Email>,
  update: (record: EmailRecord, email: Email) => EmailRecord
): LedgerShard => {
  const next: MutableEmails = { ...shard.emails }
  for (const email of emails) {
    const record = own(next, email)
    if (record !== undefined) next[email] = update(record, email)
  }
  return { ...shard, emails: next }
}

/** Checkpoint after an applied step: these emails are (or are no longer) on the Marketo list. */
export const markSynced = (shard: LedgerShard, emails: ReadonlyArray<Email>, synced: boolean): LedgerShard =>
  updateRecords(shard, emails, (record) => (record.synced === synced ? record : { ...record, synced }))

export const rememberLeadIds = (
  shard: LedgerShard,
  ids: ReadonlyArray<{ readonly email: Email; readonly leadIds: ReadonlyArray<LeadId> }>
): LedgerShard => {
  const byEmail = new Map(ids.map((i) => [i.email, i.leadIds]))
  return updateRecords(shard, [...byEmail.keys()], (record, email) => {
    const leadIds = byEmail.get(email) ?? []
    if (leadIds.length > 0) return { ...record, leadIds: [...leadIds].sort((a, b) => a - b) }
    const { leadIds: _forgotten, ...rest } = record
    return rest
  })
}

export const shardCounts = (shard: LedgerShard, audienceClass: AudienceClass) => {
  let desired = 0
  let synced = 0
  let pendingAdd = 0
  let pendingRemove = 0
  let importing = 0
  let refused = 0
  for (const email of Object.keys(shard.emails)) {
    const record = shard.emails[email]!
    const wanted = isDesired(record)
    if (wanted) desired++
    if (record.synced) synced++
    if (record.importing !== undefined) importing++
    if (wanted && record.refused !== undefined) refused++
    if (wanted && !record.synced && record.importing === undefined && record.refused === undefined) pendingAdd++
    if (!wanted && record.synced && audienceClass === "audience") pendingRemove++
  }
  return { desired, synced, pendingAdd, pendingRemove, importing, refused }
}
