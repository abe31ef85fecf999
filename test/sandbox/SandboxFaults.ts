// Faults a test or soak injects, reproducible from a seed: envelope error codes, HTTP 502, dropped
// connections, token revocation, extra latency, and answers lost after the call ran. Each rule hits
// the next N calls or a share of all calls, optionally only calls whose path starts with a prefix.
export type FaultKind = "604" | "606" | "608" | "611" | "615" | "502" | "drop" | "revoke" | "latency" | "lost"

export const faultKinds: ReadonlyArray<FaultKind> = ["604", "606", "608", "611", "615", "502", "drop", "revoke", "latency", "lost"]

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
  /**
   * For `lost`: how the answer of a call that ran is lost, the connection dropped (the default)
   * or an HTTP 502 from the edge.
   */
  readonly as?: "drop" | "502"
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export const seededRandom = (seed: number) => {
  const state = { prng: seed | 0 }
  return () => nextRandom(state)
}

/** One mulberry32 draw; the generator's whole state is the one number it advances. */
export const nextRandom = (state: { prng: number }): number => {
  state.prng = (state.prng + 0x6d2b79f5) | 0
  const s = state.prng
  let t = Math.imul(s ^ (s >>> 15), 1 | s)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

export type LiveRule = FaultRule & { remaining?: number }

/** Plain data, so the model's whole state can be copied and replayed. */
export interface FaultsState {
  rules: Array<LiveRule>
  prng: number
}

export const faultsState = (seed = 1): FaultsState => ({ rules: [], prng: seed | 0 })

/** Operations on a `FaultsState` (which it updates in place). */
export class Faults {
  readonly state: FaultsState

  constructor(seedOrState: number | FaultsState = 1) {
    this.state = typeof seedOrState === "number" ? faultsState(seedOrState) : seedOrState
  }

  set(rules: ReadonlyArray<FaultRule>, seed?: number) {
    for (const rule of rules) {
      if (!faultKinds.includes(rule.kind)) throw new Error(`unknown fault kind ${String(rule.kind)}`)
    }
    this.state.rules = rules.map((r) => ({ ...r, ...(r.count === undefined ? {} : { remaining: r.count }) }))
    if (seed !== undefined) this.state.prng = seed | 0
  }

  list(): ReadonlyArray<FaultRule> {
    return this.state.rules
  }

  private hits(rule: LiveRule, path: string): boolean {
    if (rule.pathPrefix !== undefined && !path.startsWith(rule.pathPrefix)) return false
    if (rule.remaining !== undefined) {
      if (rule.remaining <= 0) return false
      rule.remaining--
      return true
    }
    return rule.rate !== undefined && nextRandom(this.state) < rule.rate
  }

  /**
   * The fault for this call, if any (consumes a counted rule). Latency rules are not considered.
   * With `explicitOnly` (identity calls), only rules whose `pathPrefix` names the path apply.
   */
  pick(path: string, explicitOnly = false): Exclude<FaultKind, "latency"> | undefined {
    return this.pickRule(path, explicitOnly)?.kind as Exclude<FaultKind, "latency"> | undefined
  }

  /** The rule that hits this call, if any (as `pick`). */
  pickRule(path: string, explicitOnly = false): LiveRule | undefined {
    for (const rule of this.state.rules) {
      if (rule.kind === "latency") continue
      if (explicitOnly && rule.pathPrefix === undefined) continue
      if (this.hits(rule, path)) return rule
    }
    return undefined
  }

  /** Extra latency for this call from `latency` rules (asked by the shell before the call runs). */
  latency(path: string): number {
    let total = 0
    for (const rule of this.state.rules) {
      if (rule.kind === "latency" && this.hits(rule, path)) total += rule.millis ?? 1_000
    }
    return total
  }
}
