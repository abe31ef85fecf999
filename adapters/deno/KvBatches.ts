// Cutting many writes or deletes into atomic operations that each stay inside Deno KV's limits
// (mutations, bytes, key bytes per operation), with a margin for what the encoding adds.
import { KvLimits } from "./KvLimits.js"
import { keyBytes } from "./ValueChunks.js"

export type Mutation =
  | { readonly type: "set"; readonly key: Deno.KvKey; readonly value: unknown; readonly bytes: number }
  | { readonly type: "delete"; readonly key: Deno.KvKey }

/** What one operation may carry: the limits less a tenth, for the encoding's own bytes. */
export const operationBudget = {
  mutations: KvLimits.mutations - KvLimits.checks,
  bytes: Math.floor(KvLimits.mutationBytes * 0.9),
  keyBytes: Math.floor(KvLimits.keyBytesPerOperation * 0.9)
}

export interface OperationSize {
  readonly mutations: number
  readonly bytes: number
  readonly keyBytes: number
}

/** An operation's size as Deno KV counts it: every key once, a written key and its value once more. */
export const sizeOf = (mutations: ReadonlyArray<Mutation>, checked: ReadonlyArray<Deno.KvKey> = []): OperationSize => {
  let bytes = 0
  let keys = 0
  for (const m of mutations) {
    const k = keyBytes(m.key)
    keys += k
    bytes += m.type === "set" ? 2 * k + m.bytes : k
  }
  for (const key of checked) {
    const k = keyBytes(key)
    keys += k
    bytes += k
  }
  return { mutations: mutations.length, bytes, keyBytes: keys }
}

export const fits = (size: OperationSize): boolean =>
  size.mutations <= operationBudget.mutations && size.bytes <= operationBudget.bytes && size.keyBytes <= operationBudget.keyBytes

const plus = (a: OperationSize, b: OperationSize): OperationSize => ({
  mutations: a.mutations + b.mutations,
  bytes: a.bytes + b.bytes,
  keyBytes: a.keyBytes + b.keyBytes
})

/** The mutations in order, cut into groups that each fit one operation. */
export const packOperations = (mutations: ReadonlyArray<Mutation>): Array<ReadonlyArray<Mutation>> => {
  const out: Array<Array<Mutation>> = []
  let current: Array<Mutation> = []
  let size: OperationSize = { mutations: 0, bytes: 0, keyBytes: 0 }
  for (const m of mutations) {
    const next = plus(size, sizeOf([m]))
    if (current.length > 0 && !fits(next)) {
      out.push(current)
      current = []
      size = sizeOf([m])
    } else size = next
    current.push(m)
  }
  if (current.length > 0) out.push(current)
  return out
}

/** Add the mutations to an atomic operation. */
export const apply = (op: Deno.AtomicOperation, mutations: ReadonlyArray<Mutation>): Deno.AtomicOperation => {
  for (const m of mutations) {
    if (m.type === "set") op.set(m.key, m.value)
    else op.delete(m.key)
  }
  return op
}

/** Consecutive groups of at most `size` items. */
export const groups = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
