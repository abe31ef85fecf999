// Shards split as an audience grows, with no migration that stops the world: when a fold finds a
// shard holding more than `splitAt` emails, it writes the shard's two children (each a base and
// its pending index; core/2-ledger/PendingIndex.ts) and the audience record naming the split, with
// the children's counts in place of the parent's, in ONE write. Readers and the journal resolve
// every email through the record's layout (`layoutOf`), so before that write everything reads the
// parent and after it the children; the parent's keys are deleted afterwards, and a stop before
// that only leaves keys no layout names (deleted with the audience).
import { Effect } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import type { AudienceRecord } from "./AudienceRecord.js"
import { encodeRecord } from "./AudienceShards.js"
import { shardCounts } from "./Ledger.js"
import type { EmailRecord, LedgerShard } from "./LedgerShard.js"
import { compactedEntries } from "./PendingIndex.js"
import { childrenOf, type ShardLayout, shardOf, type SplitLayout } from "./Sharding.js"
import { StateKeys } from "./StateKeys.js"
import { StateStore } from "../ports/StateStore.js"

/** A shard holding more emails than this is split by the fold that finds it so. */
export const defaultSplitAt = 32_000

/**
 * The size past which shard `n` splits: between three quarters of `splitAt` and all of it, fixed
 * per shard number. A load grows every shard of an audience alike (emails hash evenly), so with
 * one split size for all they would all split within a few ticks, each a write of two whole bases;
 * spread, the splits of a level come over a quarter of the audience's growth.
 */
export const splitPointOf = (n: number, splitAt: number): number => {
  // Fibonacci hashing: consecutive shard numbers land far apart in [0, 1).
  const spread = (Math.imul(n + 1, 0x9e3779b1) >>> 0) / 2 ** 32
  return splitAt - Math.floor((splitAt / 4) * spread)
}

const layouts = new WeakMap<ReadonlyArray<number>, SplitLayout>()

/** How the record's audience is sharded now: what every reader resolves emails through. */
export const layoutOf = (record: Pick<AudienceRecord, "shardCount" | "splits">): ShardLayout => {
  const splits = record.splits
  if (splits === undefined || splits.length === 0) return record.shardCount
  let layout = layouts.get(splits)
  if (layout === undefined) {
    layout = { count: record.shardCount, splits: new Set(splits) }
    layouts.set(splits, layout)
  }
  return layout
}

/** Splits need the first shards to be a power of two in number (64 by default). */
const canSplit = (record: AudienceRecord) => Number.isInteger(Math.log2(record.shardCount))

/**
 * Split one whole shard (its base with its index over it) into its two children: written with
 * the record that names them in one write, then the parent's keys deleted. Returns the record.
 */
export const splitShard = Effect.fn("ShardSplit.split")(function*(key: AudienceKey, record: AudienceRecord, whole: LedgerShard) {
  if (!canSplit(record)) return record
  const store = yield* StateStore
  const n = whole.shard
  const splits = [...(record.splits ?? []), n].sort((a, b) => a - b)
  const layout = layoutOf({ shardCount: record.shardCount, splits })
  const [left, right] = childrenOf(n, record.shardCount)
  const halves = new Map<number, Record<string, EmailRecord>>([[left, {}], [right, {}]])
  for (const email of Object.keys(whole.emails)) halves.get(shardOf(email as never, layout))![email] = whole.emails[email]!
  const counts = { ...record.shards }
  delete counts[String(n)]
  const writes: Array<readonly [string, string]> = []
  for (const [child, emails] of halves) {
    const shard: LedgerShard = { audience: key, shard: child, emails }
    counts[String(child)] = shardCounts(shard, record.audienceClass)
    writes.push(...compactedEntries(key, shard, record.audienceClass))
  }
  const next: AudienceRecord = { ...record, splits, shards: counts }
  yield* store.setMany([...writes, encodeRecord(next)])
  yield* store.remove([StateKeys.shard(key, n), StateKeys.shardPending(key, n), StateKeys.shardFilter(key, n)])
  yield* Effect.logInfo("shard split").pipe(Effect.annotateLogs({ audience: key, shard: n, into: `${left},${right}`, emails: Object.keys(whole.emails).length }))
  return next
})
