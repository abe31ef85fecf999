// Faults a test or soak injects, reproducible from a seed: envelope error codes, HTTP 502, dropped
// connections, token revocation. Each either hits the next N calls or a share of all calls.
export type FaultKind = "604" | "606" | "608" | "611" | "615" | "502" | "drop"

export interface FaultRule {
  readonly kind: FaultKind
  /** Hit the next `count` calls... */
  readonly count?: number
  /** ...or each call with this probability. */
  readonly rate?: number
  /** Only calls whose path starts with this. */
  readonly pathPrefix?: string
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export const seededRandom = (seed: number) => {
  let s = seed | 0
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class Faults {
  private rules: Array<FaultRule & { remaining?: number }> = []
  private random: () => number

  constructor(seed = 1) {
    this.random = seededRandom(seed)
  }

  set(rules: ReadonlyArray<FaultRule>, seed?: number) {
    this.rules = rules.map((r) => ({ ...r, ...(r.count === undefined ? {} : { remaining: r.count }) }))
    if (seed !== undefined) this.random = seededRandom(seed)
  }

  /** The fault for this call, if any (consumes a counted rule). */
  pick(path: string): FaultKind | undefined {
    for (const rule of this.rules) {
      if (rule.pathPrefix !== undefined && !path.startsWith(rule.pathPrefix)) continue
      if (rule.remaining !== undefined && rule.remaining > 0) {
        rule.remaining--
        return rule.kind
      }
      if (rule.rate !== undefined && this.random() < rule.rate) return rule.kind
    }
    return undefined
  }
}
