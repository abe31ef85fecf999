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

export const shardOf = (email: Email, shardCount: number): number => emailHash(email) % shardCount

export const groupByShard = <A extends { readonly email: Email }>(
  items: ReadonlyArray<A>,
  shardCount: number
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
