// How a reconcile files the members it reads: in buckets by the email's hash, each bucket the
// residue of the hash modulo a power of two. The run takes as many buckets as the layout's
// shallowest shard allows (the 64 first shards, or 2^d once every shard is split to depth d or
// deeper), so no shard spans two buckets, and a bucket holds about one shard's members: as
// shards split while an audience grows, a bucket of a 10,000,000-member list holds some 20,000
// emails rather than the 156,000 of one of 64.
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import { childrenOf, emailHash } from "../2-ledger/Sharding.js"

/** The bucket an email is filed in: the hash's residue, which no shard of the layout crosses. */
export const bucketOf = (email: string, buckets: number): number => emailHash(email) % buckets

/** The bucket of a shard of the current layout (a split's children keep their parent's residue). */
export const bucketOfShard = (shard: number, buckets: number): number =>
  shard < buckets ? shard : (shard - 2 ** Math.floor(Math.log2(shard))) % buckets

/** Buckets for a run over this record's layout: 2 to the depth of its shallowest shard. */
export const bucketsFor = (record: Pick<AudienceRecord, "shardCount" | "splits">): number => {
  const count = record.shardCount
  const splits = new Set(record.splits ?? [])
  if (splits.size === 0 || !Number.isInteger(Math.log2(count))) return count
  let shallowest = Number.POSITIVE_INFINITY
  // Depth first over the split tree: a shard not split is a leaf of the layout.
  const stack: Array<readonly [number, number]> = []
  for (let n = 0; n < count; n++) stack.push([n, Math.log2(count)])
  while (stack.length > 0) {
    const [shard, depth] = stack.pop()!
    if (depth >= shallowest) continue
    if (!splits.has(shard)) shallowest = depth
    else for (const child of childrenOf(shard, count)) stack.push([child, depth + 1])
  }
  return 2 ** shallowest
}
