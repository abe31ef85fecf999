// The audience ledger, one shard at a time. Per (user, email) the latest word wins by the total
// order (timestamp, messageId, member): a deterministic tie-break, so folding is commutative,
// associative and idempotent — redeliveries and reorderings change nothing. An email is desired
// while at least one user holds it as a member (reference count), so one user leaving does not
// remove an address another member still has.
//
// Shards are plain data (they are what KV stores), so this module works on plain objects and
// arrays only, and touches per call only the records its input names — except `shardDelta` and
// `shardCounts`, which read the whole shard once.
import type { Email } from "../1-events/Email.js"
import type { AudienceClass, AudienceKey, LeadId } from "../1-events/Ids.js"
import { fieldsDigest, mergeFields, storedFieldsOf } from "./LeadFieldRecord.js"
import type { EmailRecord, Holder, LedgerShard } from "./LedgerShard.js"
import type { MembershipChange } from "../1-events/MembershipChange.js"

export const emptyShard = (audience: AudienceKey, shard: number): LedgerShard => ({ audience, shard, emails: {} })

/** Negative when `a` is older than `b` in the last-writer-wins order. */
export const compareHolders = (a: Holder, b: Holder): number =>
  a.timestamp !== b.timestamp
    ? a.timestamp - b.timestamp
    : a.messageId !== b.messageId
    ? (a.messageId < b.messageId ? -1 : 1)
    : Number(a.member) - Number(b.member)

// Working types for records this module has just created and therefore may change before
// handing them out.
type MutableRecord = { -readonly [K in keyof EmailRecord]: EmailRecord[K] } & { holders: Array<Holder> }
type MutableEmails = Record<string, EmailRecord>

// Every key is an Email, which always contains "@", so it can never name an inherited property
// such as "__proto__" or "constructor": plain indexing is safe without hasOwnProperty.
const recordOf = (emails: MutableEmails, email: string): EmailRecord | undefined => emails[email]

/** A copy the fold may change: same fields, minus a refusal (a newer word lifts it). */
const ownedCopy = (record: EmailRecord): MutableRecord => {
  const copy: MutableRecord = { holders: record.holders.slice(), synced: record.synced }
  if (record.leadIds !== undefined) copy.leadIds = record.leadIds
  if (record.importing !== undefined) copy.importing = record.importing
  if (record.importFailed !== undefined) copy.importFailed = record.importFailed
  if (record.fields !== undefined) copy.fields = record.fields
  if (record.fieldsPending !== undefined) copy.fieldsPending = record.fieldsPending
  return copy
}

export interface FoldOptions {
  /**
   * Change `shard` itself instead of returning a copy. Only for a caller that owns the shard and
   * every record in it (it decoded them just now): it saves copying the whole shard, which
   * dominates the cost of a small batch against a large shard.
   */
  readonly inPlace?: boolean
}

/**
 * Fold changes (all of this shard and audience) into a shard. Without `inPlace` the input is left
 * as it was: the emails index is copied once per call and only the records a change wins are
 * copied, once each. A change's lead field values are merged per field by their own time, whether
 * or not its membership word is the latest.
 */
export const foldShard = (shard: LedgerShard, changes: ReadonlyArray<MembershipChange>, options: FoldOptions = {}): LedgerShard => {
  if (changes.length === 0) return shard
  const inPlace = options.inPlace === true
  const emails: MutableEmails = inPlace ? shard.emails as MutableEmails : { ...shard.emails }
  // Records this call may change in place: all of them when the caller owns the shard, otherwise
  // only those it created.
  const owned = inPlace ? undefined : new Set<EmailRecord>()
  for (let c = 0; c < changes.length; c++) {
    const change = changes[c]!
    const email = change.email
    const user = change.user
    const record = recordOf(emails, email)
    const incomingFields = change.fields
    if (record === undefined) {
      const created: MutableRecord = {
        holders: [{ user, member: change.member, timestamp: change.timestamp, messageId: change.messageId }],
        synced: false
      }
      if (incomingFields !== undefined) {
        created.fields = storedFieldsOf(incomingFields, change.timestamp)
        created.fieldsPending = true
      }
      emails[email] = created
      owned?.add(created)
      continue
    }
    const holders = record.holders
    let at = 0
    // Holders stay sorted by user, so the stored shard does not depend on arrival order.
    while (at < holders.length && holders[at]!.user < user) at++
    const current = holders[at]
    const same = current !== undefined && current.user === user
    // Inline compareHolders(current, change) >= 0: the incoming word is not newer.
    const older = same && (current.timestamp > change.timestamp || (current.timestamp === change.timestamp &&
      (current.messageId > change.messageId || (current.messageId === change.messageId && (current.member || !change.member)))))
    const merged = incomingFields === undefined ? undefined : mergeFields(record.fields, incomingFields, change.timestamp)
    if (older && merged === undefined) continue
    let target: MutableRecord
    if (record.refused !== undefined || (owned !== undefined && !owned.has(record))) {
      target = ownedCopy(record)
      emails[email] = target
      owned?.add(target)
    } else target = record as MutableRecord
    if (merged !== undefined) {
      target.fields = merged.fields
      if (merged.valueChanged) target.fieldsPending = true
    }
    if (older) continue
    const incoming: Holder = { user, member: change.member, timestamp: change.timestamp, messageId: change.messageId }
    if (same) target.holders[at] = incoming
    else target.holders.splice(at, 0, incoming)
  }
  return inPlace ? shard : { audience: shard.audience, shard: shard.shard, emails }
}

export const isDesired = (record: EmailRecord): boolean => {
  const holders = record.holders
  for (let i = 0; i < holders.length; i++) if (holders[i]!.member) return true
  return false
}

/** To be added: desired, not on the list, not in a running import, not refused by Marketo. */
const wantsAdd = (record: EmailRecord, desired: boolean): boolean =>
  desired && !record.synced && record.importing === undefined && record.refused === undefined

/** To be removed: on the list and no longer desired; journey-step lists only ever grow. */
const wantsRemove = (record: EmailRecord, desired: boolean, audienceClass: AudienceClass): boolean =>
  !desired && record.synced && audienceClass === "audience"

export interface ShardDelta {
  readonly add: ReadonlyArray<Email>
  readonly remove: ReadonlyArray<Email>
}

/** What this shard still needs done on the Marketo list; sorted, so plans are deterministic. */
export const shardDelta = (shard: LedgerShard, audienceClass: AudienceClass): ShardDelta => {
  const add: Array<Email> = []
  const remove: Array<Email> = []
  const emails = shard.emails
  const keys = Object.keys(emails)
  for (let i = 0; i < keys.length; i++) {
    const email = keys[i]!
    const record = emails[email]!
    const desired = isDesired(record)
    if (wantsAdd(record, desired)) add.push(email as Email)
    else if (wantsRemove(record, desired, audienceClass)) remove.push(email as Email)
  }
  return { add: add.sort(), remove: remove.sort() }
}

/**
 * The shard with the named records (those it holds) replaced: a copy with one index copy, or, when
 * the caller owns the shard (`inPlace`, e.g. freshly decoded for a flush), the shard itself
 * changed, since copying a 15,000-email index per step effect was most of a large tick's CPU.
 */
const updateRecords = (
  shard: LedgerShard,
  emails: ReadonlyArray<Email>,
  update: (record: EmailRecord, email: Email) => EmailRecord,
  inPlace: boolean
): LedgerShard => {
  let next: MutableEmails | undefined = inPlace ? shard.emails as MutableEmails : undefined
  for (const email of emails) {
    const record = recordOf(next ?? shard.emails, email)
    if (record === undefined) continue
    const updated = update(record, email)
    if (updated === record) continue
    next ??= { ...shard.emails }
    next[email] = updated
  }
  return next === undefined || inPlace ? shard : { audience: shard.audience, shard: shard.shard, emails: next }
}

/** Whether an update may change the caller's shard itself (see updateRecords). */
export interface UpdateOptions {
  readonly inPlace?: boolean
}

/**
 * Checkpoint after an applied step: these emails are (or are no longer) on the Marketo list. On
 * it, an import's refusal of the row is moot.
 */
export const markSynced = (shard: LedgerShard, emails: ReadonlyArray<Email>, synced: boolean, options: UpdateOptions = {}): LedgerShard =>
  updateRecords(shard, emails, (record) => {
    if (synced && record.importFailed !== undefined) {
      const { importFailed: _moot, ...rest } = record
      return { ...rest, synced }
    }
    return record.synced === synced ? record : { ...record, synced }
  }, options.inPlace === true)

/** Remember the lead ids Marketo reported for these emails (an empty list forgets them). */
export const rememberLeadIds = (
  shard: LedgerShard,
  ids: ReadonlyArray<{ readonly email: Email; readonly leadIds: ReadonlyArray<LeadId> }>,
  options: UpdateOptions = {}
): LedgerShard => {
  const byEmail = new Map(ids.map((i) => [i.email, i.leadIds]))
  return updateRecords(shard, [...byEmail.keys()], (record, email) => {
    const leadIds = byEmail.get(email) ?? []
    if (leadIds.length > 0) return { ...record, leadIds: [...new Set(leadIds)].sort((a, b) => a - b) }
    if (record.leadIds === undefined) return record
    const { leadIds: _forgotten, ...rest } = record
    return rest
  }, options.inPlace === true)
}

/**
 * On the list, still wanted, and a lead field value changed since the fields were last sent: an
 * update to send when the deployment sends changed values (MARKETO_LEAD_FIELDS_UPDATE=always).
 */
export const wantsFieldUpdate = (record: EmailRecord, desired: boolean): boolean =>
  record.fieldsPending === true && desired && record.synced && record.importing === undefined

/**
 * Checkpoint after lead fields were sent: each email's pending mark is cleared while its values
 * are still those sent (their digest); a value changed since keeps it.
 */
export const markFieldsSent = (
  shard: LedgerShard,
  sent: ReadonlyArray<{ readonly email: Email; readonly digest: string }>,
  options: UpdateOptions = {}
): LedgerShard => {
  const digests = new Map(sent.map((s) => [s.email, s.digest]))
  return updateRecords(shard, [...digests.keys()], (record, email) => {
    if (record.fieldsPending !== true || fieldsDigest(record.fields) !== digests.get(email)) return record
    const { fieldsPending: _sent, ...rest } = record
    return rest
  }, options.inPlace === true)
}

/**
 * Whether a record has work pending or may have: wanted and listed differ, an import carries it,
 * or a lead field value changed on a member the list holds.
 */
export const hasPendingWork = (record: EmailRecord): boolean =>
  record.importing !== undefined || isDesired(record) !== record.synced || wantsFieldUpdate(record, isDesired(record))

/**
 * Tallies for the audience record and the admin views; one pass over the shard. Records whose
 * email `except` holds are left out (those a shard's pending index overrides).
 */
export const shardCounts = (shard: LedgerShard, audienceClass: AudienceClass, except?: { readonly [email: string]: unknown }) => {
  let desired = 0
  let synced = 0
  let pendingAdd = 0
  let pendingRemove = 0
  let importing = 0
  let refused = 0
  let pendingUpdate = 0
  const emails = shard.emails
  const keys = Object.keys(emails)
  for (let i = 0; i < keys.length; i++) {
    if (except !== undefined && except[keys[i]!] !== undefined) continue
    const record = emails[keys[i]!]!
    const wanted = isDesired(record)
    if (wanted) desired++
    if (record.synced) synced++
    if (record.importing !== undefined) importing++
    if (wanted && record.refused !== undefined) refused++
    if (wantsAdd(record, wanted)) pendingAdd++
    if (wantsRemove(record, wanted, audienceClass)) pendingRemove++
    if (wantsFieldUpdate(record, wanted)) pendingUpdate++
  }
  return { desired, synced, pendingAdd, pendingRemove, importing, refused, pendingUpdate }
}
