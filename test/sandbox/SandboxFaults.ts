// Faults a test or soak injects, reproducible from a seed: envelope error codes, HTTP 502, dropped
// connections, token revocation and extra latency. Each rule hits the next N calls or a share of
// all calls, optionally only calls whose path starts with a prefix.
export type FaultKind = "604" | "606" | "608" | "611" | "615" | "502" | "drop" | "revoke" | "latency"

export const faultKinds: ReadonlyArray<FaultKind> = ["604", "606", "608", "611", "615", "502", "drop", "revoke", "latency"]

export interface FaultRule {
  readonly kind: FaultKind
  /** Hit the next `count` calls... */
  readonly count?: number
  /** ...or each call with this probability. */
  readonly rate?: number
  /** Only calls whose path starts with this. */
  readonly pathPrefix?: string
  /** For `latency`: the delay added, in ms. */
  readonly millis?: number
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

type LiveRule = FaultRule & { remaining?: number }

export class Faults {
  private rules: Array<LiveRule> = []
  private random: () => number

  constructor(seed = 1) {
    this.random = seededRandom(seed)
  }

  set(rules: ReadonlyArray<FaultRule>, seed?: number) {
    for (const rule of rules) {
      if (!faultKinds.includes(rule.kind)) throw new Error(`unknown fault kind ${String(rule.kind)}`)
    }
    this.rules = rules.map((r) => ({ ...r, ...(r.count === undefined ? {} : { remaining: r.count }) }))
    if (seed !== undefined) this.random = seededRandom(seed)
  }

  list(): ReadonlyArray<FaultRule> {
    return this.rules
  }

  private hits(rule: LiveRule, path: string): boolean {
    if (rule.pathPrefix !== undefined && !path.startsWith(rule.pathPrefix)) return false
    if (rule.remaining !== undefined) {
      if (rule.remaining <= 0) return false
      rule.remaining--
      return true
    }
    return rule.rate !== undefined && this.random() < rule.rate
  }

  /** The fault for this call, if any (consumes a counted rule). Latency rules are not considered. */
  pick(path: string): Exclude<FaultKind, "latency"> | undefined {
    for (const rule of this.rules) {
      if (rule.kind === "latency") continue
      if (this.hits(rule, path)) return rule.kind
    }
    return undefined
  }

  /** Extra latency for this call from `latency` rules (asked by the shell before the call runs). */
  latency(path: string): number {
    let total = 0
    for (const rule of this.rules) {
      if (rule.kind === "latency" && this.hits(rule, path)) total += rule.millis ?? 1_000
    }
    return total
  }
}
