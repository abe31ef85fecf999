// A KV namespace that behaves like a distant location: a value written less than `delayMillis`
// ago is not visible yet (reads answer null), as Workers KV does while a write propagates.
// Used to prove that readers of KvStateStore get StateNotVisible, never an older version.
import type { KvValues } from "../KvStateStore.js"

export interface StaleKv extends KvValues {
  /** Make every write so far visible, as if propagation had finished. */
  readonly settle: () => void
}

export const makeStaleKv = (kv: KvValues, delayMillis: number, now: () => number = Date.now): StaleKv => {
  const writtenAt = new Map<string, number>()
  return {
    get: async (key) => {
      const at = writtenAt.get(key)
      if (at !== undefined && now() - at < delayMillis) return null
      return kv.get(key)
    },
    put: async (key, value) => {
      writtenAt.set(key, now())
      await kv.put(key, value)
    },
    delete: (key) => kv.delete(key),
    settle: () => writtenAt.clear()
  }
}
