// Which ledger shard an email lives in: a stable hash, so an email's shard never changes and a tick
// touches only the shards its changes fall into.
import type { Email } from "../1-events/Email.js"

export const DEFAULT_SHARD_COUNT = 64

/** 32-bit FNV-1a of the email's characters (emails are ASCII). */
export const emailHash = (email: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < email.length; i++) hash = Math.imul(hash ^ email.charCodeAt(i), 0x01000193)
  return hash >>> 0
}

/**
 * Shards that split as an audience grows (core/2-ledger/ShardSplit.ts): `count` first shards
 * (a power of two) by the hash modulo `count`, and each shard in `splits` replaced by its two
 * children, keyed by one more bit of the hash. A plain number is `count` shards never split.
 */
export interface SplitLayout {
  readonly count: number
  readonly splits: ReadonlySet<number>
}
export type ShardLayout = number | SplitLayout

/**
 * The shard an email is in. A shard split at depth b (2^b shards at that depth, residue r) has
 * children of residue r and r + 2^b at depth b + 1, numbered 2^(b+1) + residue: never one of
 * the first `count` numbers, never the same for two shards.
 */
export const shardOf = (email: Email, layout: ShardLayout): number => {
  const hash = emailHash(email)
  if (typeof layout === "number") return hash % layout
  let size = layout.count
  let id = hash % size
  while (layout.splits.has(id)) {
    const residue = hash % (size * 2)
    size *= 2
    id = size + residue
  }
  return id
}

/** The two shards a shard splits into. */
export const childrenOf = (id: number, count: number): readonly [number, number] => {
  let size = count
  let residue = id
  if (id >= count) {
    size = 2 ** Math.floor(Math.log2(id))
    residue = id - size
  }
  return [2 * size + residue, 2 * size + residue + size]
}

export const groupByShard = <A extends { readonly email: Email }>(
  items: ReadonlyArray<A>,
  shardCount: ShardLayout
): ReadonlyMap<number, ReadonlyArray<A>> => {
  const groups = new Map<number, Array<A>>()
  for (const item of items) {
    const shard = shardOf(item.email, shardCount)
    const group = groups.get(shard)
    if (group === undefined) groups.set(shard, [item])
    else group.push(item)
  }
  return groups
}
