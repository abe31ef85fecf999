// A value larger than one Deno KV entry holds (64 KiB) is stored as its UTF-8 bytes cut into
// pieces of at most that size; reading it back joins them. The state store's values are JSON made
// by the core's schemas (ledger shards reach megabytes), always well-formed UTF-16, so the bytes
// give back the exact string.
import { KvLimits } from "./KvLimits.js"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface Chunked {
  /** Length of the whole value in UTF-8 bytes. */
  readonly bytes: number
  readonly chunks: ReadonlyArray<Uint8Array>
}

/** The value's bytes in pieces of at most `size` bytes (none for the empty string). */
export const toChunks = (value: string, size: number = KvLimits.valueBytes): Chunked => {
  const all = encoder.encode(value)
  const chunks: Array<Uint8Array> = []
  // slice, not subarray: each piece is stored on its own, not as a view of the whole buffer.
  for (let at = 0; at < all.length; at += size) chunks.push(all.slice(at, at + size))
  return { bytes: all.length, chunks }
}

/** The value the pieces make, in order. */
export const fromChunks = (chunks: ReadonlyArray<Uint8Array>, bytes: number): string => {
  if (chunks.length === 1) return decoder.decode(chunks[0])
  const all = new Uint8Array(bytes)
  let at = 0
  for (const chunk of chunks) {
    all.set(chunk, at)
    at += chunk.length
  }
  return decoder.decode(all)
}

/**
 * An upper bound of a key's size as Deno KV encodes it (a string part: a type byte, its UTF-8
 * bytes, a zero byte after it, and one more byte for each zero byte inside, so at most twice its
 * bytes; a number: a type byte and 8 bytes), so batches can be cut before a limit.
 */
export const keyBytes = (key: Deno.KvKey): number =>
  key.reduce<number>((sum, part) => sum + (typeof part === "string" ? encoder.encode(part).length * 2 + 2 : 10), 0)
