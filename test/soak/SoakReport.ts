// What a soak is asked to do and what it reports: the counts of what ran, and each invariant of
// docs/reliability.md checked against the sandbox's call log and lists (test/soak/Invariants.ts).
import type { SandboxModel } from "../sandbox/SandboxModel.js"
import type { ImportProfile } from "../sandbox/SandboxConfig.js"
import { callsBeyondDiscovery, type ListMismatch, listMismatches, maxCallsInWindow, ownRefusals } from "./Invariants.js"
import { callsPer20s, type SoakRig } from "./SoakRig.js"

/** Give `seconds` or `scenarios`, not both. */
export interface SoakOptions {
  /** Scenarios start until this many seconds have passed: the work depends on the machine's speed. */
  readonly seconds?: number
  /**
   * Exactly this many scenarios, each the same whatever the machine's speed: the seed alone
   * decides their faults, events and ticks (only the drain's ticks and the retries vary).
   */
  readonly scenarios?: number
  readonly seed: number
  /** Longest time the drain after the faults may take (default 180 s when bounded by seconds, else no limit by time). */
  readonly drainSeconds?: number
  /** Most ticks the drain may run (default 60 when bounded by scenarios, else no limit by count). */
  readonly drainTicks?: number
  /** Only these fault kinds (default: all of `faultKinds`, each as often as the plan draws it). */
  readonly faults?: ReadonlyArray<string>
  /** The most refusals in one 606/615 storm (default 2). Each one doubles the pause: 1 → 20 s, 2 → 60 s. */
  readonly maxStorm?: number
  /** Where the worker runs (default "cloudflare": workerd; "deno": the Deno server over Deno KV). */
  readonly runtime?: "cloudflare" | "deno"
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void
  /** How long the sandbox's imports take (default realistic: minutes, moved through by the drain's clock). */
  readonly imports?: ImportProfile
}

export interface SoakReport {
  /** What bounded the faults phase: a time (`--seconds`) or a count of scenarios (`--scenarios`). */
  readonly boundBy: "seconds" | "scenarios"
  /** The faults phase in seconds: as asked, or as long as the scenarios took. */
  readonly seconds: number
  readonly seed: number
  readonly elapsedSeconds: number
  readonly scenarios: number
  readonly events: { readonly generated: number; readonly sent: number; readonly batches: number; readonly retried: number }
  readonly faults: Record<string, number>
  readonly ticks: {
    readonly run: number
    readonly killed: number
    readonly failed: number
    readonly drain: number
    /** Cron ticks fired while a tick had run 61 s, and ticks that found the lease held (busy). */
    readonly overlapping: number
    readonly busy: number
  }
  readonly clockJumps: { readonly count: number; readonly millis: number }
  readonly sandboxCalls: {
    readonly total: number
    readonly byOutcome: Record<string, number>
    /** Answers lost after the call ran, by endpoint; and imports and lists' creations that ran (each should run once). */
    readonly lostByEndpoint: Record<string, number>
    readonly importsRun: number
    readonly listsCreated: number
  }
  readonly listsChecked: number
  readonly emailsDesired: number
  readonly mismatches: ReadonlyArray<ListMismatch>
  readonly own606: number
  readonly own615: number
  readonly callsPerWindowAllowed: number
  readonly maxCallsIn20s: number
  /** When the busiest window is over the budget: its calls (ms from its first call, endpoint, outcome). */
  readonly busiestWindow?: ReadonlyArray<string>
  readonly expiredTokenCallsBeyondDiscovery: number
  readonly drained: boolean
  readonly workerErrors: Record<string, number>
  /** Every log line and every answer of the worker, searched for its secrets and Marketo's tokens. */
  readonly outputsScanned: number
  /** Outputs that held one (where, and which kind: never the secret itself). */
  readonly secretsInOutputs: ReadonlyArray<string>
  readonly ok: boolean
  readonly failures: ReadonlyArray<string>
}

/** The invariants as they stand at the end of the run (read before the sandbox closes). */
export const checkInvariants = (sandbox: SandboxModel, desired: ReadonlyMap<string, ReadonlySet<string>>, discoveredAt: ReadonlyMap<number, number>) => {
  const snapshot = sandbox.snapshot()
  const log = sandbox.log
  return {
    mismatches: listMismatches(desired, snapshot.lists),
    ...ownRefusals(log),
    window: maxCallsInWindow(log, 20_000),
    beyond: callsBeyondDiscovery(log, discoveredAt),
    counters: sandbox.counters()
  }
}

/** Calls of an endpoint that ran and took effect: answered ok, or whose answer was lost after an ok run. */
const ranOf = (outcomes: Record<string, number> | undefined) => (outcomes?.["ok"] ?? 0) + (outcomes?.["lost"] ?? 0) + (outcomes?.["lost 502"] ?? 0)

export const soakReport = (run: {
  readonly options: SoakOptions
  readonly started: number
  /** When the faults stopped. */
  readonly faultsEnded: number
  readonly scenarios: number
  readonly faults: Record<string, number>
  readonly rig: SoakRig
  readonly desired: ReadonlyMap<string, ReadonlySet<string>>
  readonly drained: boolean
  readonly checked: ReturnType<typeof checkInvariants>
}): SoakReport => {
  const { options, rig, desired, drained } = run
  const { mismatches, own606, own615, window, beyond, counters } = run.checked
  const leaks = rig.secrets.leaks
  const failures: Array<string> = []
  if (mismatches.length > 0) failures.push(`${mismatches.length} lists differ from their audiences`)
  if (own606 + own615 > 0) failures.push(`${own606} × 606 and ${own615} × 615 caused by the worker's own calls`)
  if (window.max > callsPer20s) failures.push(`${window.max} calls in the 20 s from ${new Date(window.at).toISOString()} (allowed ${callsPer20s})`)
  if (beyond.length > 0) failures.push(`${beyond.length} calls with a token after it was known bad`)
  if (!drained) failures.push("the backlog was not gone before the drain deadline")
  if (leaks.length > 0) failures.push(`${leaks.length} outputs held a secret: ${leaks.slice(0, 5).join("; ")}`)
  return {
    boundBy: options.scenarios === undefined ? "seconds" : "scenarios",
    seconds: options.seconds ?? Math.round((run.faultsEnded - run.started) / 100) / 10,
    seed: options.seed,
    elapsedSeconds: Math.round((Date.now() - run.started) / 100) / 10,
    scenarios: run.scenarios,
    events: rig.events,
    faults: run.faults,
    ticks: rig.ticks,
    clockJumps: rig.jumps,
    sandboxCalls: {
      total: counters.calls,
      byOutcome: counters.byOutcome,
      lostByEndpoint: Object.fromEntries(Object.entries(counters.byEndpointAndOutcome).flatMap(([endpoint, outcomes]) => {
        const lost = Object.entries(outcomes).filter(([o]) => o.startsWith("lost")).reduce((n, [, c]) => n + c, 0)
        return lost > 0 ? [[endpoint, lost]] : []
      })),
      importsRun: ranOf(counters.byEndpointAndOutcome["POST /bulk/v1/leads.json"]),
      listsCreated: ranOf(counters.byEndpointAndOutcome["POST /rest/asset/v1/staticLists.json"])
    },
    listsChecked: desired.size,
    emailsDesired: [...desired.values()].reduce((n, s) => n + s.size, 0),
    mismatches: mismatches.map((m) => ({ list: m.list, missing: m.missing.slice(0, 20), extra: m.extra.slice(0, 20) })),
    own606,
    own615,
    callsPerWindowAllowed: callsPer20s,
    maxCallsIn20s: window.max,
    ...(window.max > callsPer20s ? { busiestWindow: window.calls.map((c) => `+${c.at - window.at} ${c.endpoint} ${c.outcome}${c.injected ? " (injected)" : ""}`) } : {}),
    expiredTokenCallsBeyondDiscovery: beyond.length,
    drained,
    workerErrors: rig.workerErrors,
    outputsScanned: rig.secrets.scanned,
    secretsInOutputs: leaks,
    ok: failures.length === 0,
    failures
  }
}
