// Where each piece of state lives in the StateStore. Audience keys are percent-encoded so that a
// key containing "/" can never reach another audience's records.
import type { AudienceKey } from "../1-events/Ids.js"

const enc = encodeURIComponent
const pad = (n: number, width: number) => String(n).padStart(width, "0")

export const StateKeys = {
  inboxPrefix: "inbox/",
  /** Sorted by arrival: the receive time first, then a random suffix against collisions. */
  inbox: (receivedAt: number, id: string) => `inbox/${pad(receivedAt, 13)}-${id}`,
  /** What one inbox entry holds (changes, audiences), under its own key beside it. */
  inboxSummaryPrefix: "inboxsum/",
  inboxSummaryOf: (inboxKey: string) => `inboxsum/${inboxKey.slice("inbox/".length)}`,
  /** An audience's share of inbox entries its fold could not take; kept for the operator to retry. */
  quarantinePrefix: "quarantine/",
  quarantine: (at: number, id: string) => `quarantine/${pad(at, 13)}-${id}`,
  audiencePrefix: "aud/",
  audience: (key: AudienceKey) => `aud/${enc(key)}`,
  shard: (key: AudienceKey, shard: number) => `aud/${enc(key)}/shard/${pad(shard, 4)}`,
  /** A shard's pending index: its records newer than the shard's base, every pending one among them. */
  shardPending: (key: AudienceKey, shard: number) => `aud/${enc(key)}/shard/${pad(shard, 4)}/pending`,
  /** A filter of the emails a shard's base holds, written with the base (core/2-ledger/BaseFilter.ts). */
  shardFilter: (key: AudienceKey, shard: number) => `aud/${enc(key)}/shard/${pad(shard, 4)}/filter`,
  /**
   * One small entry per applied step (its effects), in step order, until the shards are written;
   * grouped by the record's journal epoch.
   */
  journalPrefix: (key: AudienceKey) => `aud/${enc(key)}/journal/`,
  journalEpochPrefix: (key: AudienceKey, epoch: number) => `aud/${enc(key)}/journal/${pad(epoch, 10)}/`,
  journal: (key: AudienceKey, epoch: number, step: number) => `aud/${enc(key)}/journal/${pad(epoch, 10)}/${pad(step, 6)}`,
  /**
   * The parts of a bulk import file staged across ticks (core/2-ledger/StagedImport.ts): CSV rows,
   * one part per tick that added to it, under the local reference its rows are marked with.
   */
  stagedPrefix: (key: AudienceKey) => `aud/${enc(key)}/staged/`,
  stagedPart: (key: AudienceKey, ref: number, part: number) => `aud/${enc(key)}/staged/${pad(-ref, 10)}/${pad(part, 4)}`,
  /** Members without email, sharded by a hash of the user id. */
  withoutEmail: (key: AudienceKey, shard: number) => `aud/${enc(key)}/noemail/${pad(shard, 4)}`,
  /** The single unsharded value an earlier layout kept; read once and folded into the shards. */
  withoutEmailUnsharded: (key: AudienceKey) => `aud/${enc(key)}/noemail`,
  /** A reconcile in progress (core/5-tick/ReconcileRun.ts): its paging token, counts and sweep position. */
  reconcile: (key: AudienceKey) => `aud/${enc(key)}/reconcile`,
  /**
   * The members a reconcile has read, filed by bucket (the email's hash modulo the first shard
   * count) and page; outside `aud/`, so a tick's listing of the audiences never meets them. The
   * run is its start in base 36 (8 characters until the year 5188), which keeps these keys no
   * longer than a journal entry's.
   */
  reconcileSeenPrefix: (key: AudienceKey) => `recon/${enc(key)}/`,
  reconcileBucketPrefix: (key: AudienceKey, run: string, bucket: number) => `recon/${enc(key)}/${run}/${pad(bucket, 4)}/`,
  reconcileSeen: (key: AudienceKey, run: string, bucket: number, page: number) => `recon/${enc(key)}/${run}/${pad(bucket, 4)}/${pad(page, 8)}`,
  /** The configured folder's id, cached by name. */
  folder: "instance/folder",
  /** How long the instance's bulk imports take, as its polls have shown (core/3-plan/ImportLatency.ts). */
  importLatency: "instance/import-latency",
  /**
   * The longest key stored for an audience: every kind of key above, with the largest shard,
   * epoch and step numbers (and room for shard numbers of eight digits).
   */
  longestAudienceKey: (key: AudienceKey): string => {
    const kinds = [
      `aud/${enc(key)}`,
      `aud/${enc(key)}/shard/${"9".repeat(8)}`,
      `aud/${enc(key)}/shard/${"9".repeat(8)}/pending`,
      `aud/${enc(key)}/shard/${"9".repeat(8)}/filter`,
      `aud/${enc(key)}/journal/${"9".repeat(10)}/${"9".repeat(6)}`,
      `aud/${enc(key)}/noemail/${"9".repeat(8)}`,
      `aud/${enc(key)}/staged/${"9".repeat(10)}/${"9".repeat(6)}`,
      `aud/${enc(key)}/noemail`,
      `aud/${enc(key)}/reconcile`,
      `recon/${enc(key)}/${"z".repeat(9)}/${"9".repeat(4)}/${"9".repeat(8)}`
    ]
    return kinds.reduce((a, b) => (b.length > a.length ? b : a))
  },
  /** Is this key an audience record (not one of its shards or journals)? */
  isAudienceRecord: (key: string) => /^aud\/[^/]+$/.test(key)
} as const
