// A filter of the emails a shard's base holds (a Bloom filter), stored beside the base and written
// with it. The fold needs the base only for emails it may hold: a load of new members, or the
// new half of a churn, asks the filter (some 16 bits per email) instead of reading the base (a
// few hundred bytes per email). It never says "absent" of an email the base holds, and says
// "maybe" of an email it does not hold about once in two thousand, which then costs the read.
//
// Keys are the emails as the base's lines spell them (JSON strings), so a filter is rebuilt from a
// base's text without parsing a line. Every write of a base writes its filter (PendingIndex.ts);
// a base written before filters, or a filter that does not decode, has none, and is read as before.
import { emailHash } from "./Sharding.js"

export interface BaseFilter {
  readonly bits: Uint8Array
  /** Bits set per email. */
  readonly probes: number
}

/** 16 bits and 11 probes per email: a false "maybe" about once in 2,000. */
const bitsPerEmail = 16
const probes = 11

/** Two independent 32-bit hashes of a key (the shard's hash, mixed two ways: MurmurHash3's finalizer). */
const mix = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

const positions = (key: string, size: number, count: number, each: (bit: number) => boolean): boolean => {
  const h = emailHash(key)
  const a = mix(h ^ 0x9e3779b9)
  const b = mix(h ^ 0x7f4a7c15) | 1
  for (let i = 0; i < count; i++) if (!each((a + Math.imul(i, b) >>> 0) % size)) return false
  return true
}

/** The key of an email in a filter: the email as a base line spells it. */
export const filterKey = (email: string): string => JSON.stringify(email)

/** A filter of these keys (`filterKey` of each email), sized for `count` of them. */
export const filterOf = (keys: Iterable<string>, count: number): BaseFilter => {
  const bytes = Math.max(8, Math.ceil((Math.max(1, count) * bitsPerEmail) / 8))
  const bits = new Uint8Array(bytes)
  const size = bytes * 8
  for (const key of keys) {
    positions(key, size, probes, (bit) => {
      bits[bit >>> 3] = (bits[bit >>> 3] ?? 0) | (1 << (bit & 7))
      return true
    })
  }
  return { bits, probes }
}

/** False only if the base holds no such email. */
export const mayHold = (filter: BaseFilter, email: string): boolean =>
  positions(filterKey(email), filter.bits.length * 8, filter.probes, (bit) => ((filter.bits[bit >>> 3] ?? 0) & (1 << (bit & 7))) !== 0)

/** The keys of a base in lines (core/2-ledger/BaseLines.ts): each line's text up to its tab. */
export const baseLineKeys = function*(text: string): Generator<string> {
  let at = text.indexOf("\n") + 1
  while (at > 0 && at < text.length) {
    const tab = text.indexOf("\t", at)
    if (tab < 0) return
    yield text.slice(at, tab)
    at = text.indexOf("\n", tab) + 1
  }
}

const toBase64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

export const encodeFilter = (filter: BaseFilter): string => JSON.stringify({ probes: filter.probes, bits: toBase64(filter.bits) })

/** A stored filter, or none if it does not decode (the base is then read, as if it had none). */
export const decodeFilter = (text: string): BaseFilter | undefined => {
  try {
    const value = JSON.parse(text) as { probes?: unknown; bits?: unknown }
    if (typeof value.bits !== "string" || !Number.isInteger(value.probes) || (value.probes as number) < 1) return undefined
    const binary = atob(value.bits)
    if (binary.length === 0) return undefined
    const bits = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bits[i] = binary.charCodeAt(i)
    return { bits, probes: value.probes as number }
  } catch {
    return undefined
  }
}
