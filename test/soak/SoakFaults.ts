// The soak's faults: the kinds a scenario draws from, and how each is set up on the sandbox (fault
// rules, the day's quota used up, imports that fail) or on the soak (a kill point for the tick).
import type { FaultRule } from "../sandbox/SandboxFaults.js"
import { between, pick, type Random, type Traffic } from "./Scenario.js"
import type { SoakRig } from "./SoakRig.js"

export type FaultKind =
  | "none" | "606-storm" | "615-storm" | "604" | "608" | "611" | "502" | "drop" | "revoke" | "latency"
  | "607-then-reset" | "import-failed" | "kill" | "long-606-storm" | "lost"

/**
 * Drawn uniformly (kill twice as often). `long-606-storm` (3 × 606: 140 s of pauses) and `lost`
 * (answers lost after the call ran) are only drawn when asked for (`--faults`).
 */
export const faultKinds: ReadonlyArray<FaultKind> = [
  "none", "606-storm", "615-storm", "604", "608", "611", "502", "drop", "revoke", "latency",
  "607-then-reset", "import-failed", "kill", "kill"
]

// Counted rules stay until calls have used them up (a scenario whose ticks made no call passes
// its faults on to the next); rules by rate last one scenario.
export const leftover = (rig: SoakRig): Array<FaultRule> =>
  rig.sandbox.sandbox.faults.state.rules.flatMap((r) =>
    r.remaining !== undefined && r.remaining > 0 ? [{ ...r, count: r.remaining }] : []
  ).map(({ remaining: _remaining, ...rule }) => rule as FaultRule)

const setFaults = async (rig: SoakRig, rules: ReadonlyArray<FaultRule>) => rig.sandbox.sandbox.setFaults([...leftover(rig), ...rules])

/** Sets up one scenario's fault; `maxStorm` caps the refusals of a 606/615 storm. */
export const applyFault = async (rig: SoakRig, traffic: Traffic, random: Random, fault: FaultKind, maxStorm: number) => {
  const sandbox = rig.sandbox
  const path = pick(random, ["/rest/v1/", "/rest/asset/", "/bulk/", "/rest/v1/leads", "/rest/v1/lists"])
  switch (fault) {
    case "long-606-storm":
      await setFaults(rig, [{ kind: "606", count: 3 }])
      break
    case "606-storm":
    case "615-storm":
      // Other integrations use the instance's budget: a run of refusals.
      // Each refusal pauses the instance a window (20 s), doubling on repeats: a short storm.
      // A storm replaces one still waiting for calls, so storms never add up beyond `maxStorm`.
      sandbox.sandbox.setFaults(leftover(rig).filter((r) => r.kind !== "606" && r.kind !== "615"))
      await setFaults(rig, [{ kind: fault === "606-storm" ? "606" : "615", count: between(random, 1, maxStorm) }])
      break
    case "604":
    case "608":
    case "611":
    case "502":
    case "drop":
      await setFaults(rig, [{ kind: fault, ...(random() < 0.5 ? { count: between(random, 1, 3) } : { rate: 0.2 }), ...(random() < 0.5 ? { pathPrefix: path } : {}) }])
      break
    case "revoke":
      await setFaults(rig, [{ kind: "revoke", count: 1 }])
      break
    case "lost":
      // Calls run in Marketo and their answers are lost: the connection dropped, or a 502. Half
      // the time on the creation of lists and on imports, which the worker must not repeat
      // blindly; and half the time a burst large enough to go by import even when imports take
      // Marketo's minutes (upsert + add would not fit the budget before the latency target).
      await setFaults(rig, [{
        kind: "lost",
        ...(random() < 0.5 ? { count: between(random, 1, 3) } : { rate: 0.2 }),
        ...(random() < 0.5 ? { pathPrefix: pick(random, ["/bulk/v1/leads.json", "/rest/asset/v1/staticLists.json"]) } : {}),
        ...(random() < 0.5 ? { as: "502" as const } : {})
      }])
      if (random() < 0.5) traffic.bulkEnter(pick(random, traffic.audiences), between(random, 50_000, 60_000))
      break
    case "latency":
      await setFaults(rig, [{ kind: "latency", rate: 0.5, millis: between(random, 200, 1_500) }])
      break
    case "607-then-reset":
      sandbox.sandbox.useQuota(sandbox.sandbox.config.dailyQuota, Date.now())
      break
    case "import-failed":
      sandbox.sandbox.failImports(between(random, 1, 2))
      traffic.bulkEnter(pick(random, traffic.audiences), between(random, 301, 340))
      break
    case "kill":
      // At the k-th Marketo call of the tick, or (a tick with few calls) after some milliseconds.
      rig.killAt = between(random, 1, 6)
      rig.killAfterMillis = between(random, 5, 400)
      break
    case "none":
      break
  }
}
