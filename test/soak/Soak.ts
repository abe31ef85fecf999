// The fault soak: the real worker in workerd (test/soak/WorkerHost.ts) against the Marketo sandbox
// on 127.0.0.1, seeded audience traffic flowing while seeded faults hit Marketo calls, ticks
// killed in the middle, and KV reads that miss recent writes. When the time is up (or the asked
// number of scenarios has run) the faults stop, ticks run until the backlog is gone, and the
// invariants are checked (see docs/reliability.md).
// The setup and the soak's actions are in SoakRig.ts, the faults in SoakFaults.ts, the report in
// SoakReport.ts; this file is the run itself: scenarios, then the drain, then the checks.
import { nextCentralMidnight } from "../sandbox/CentralTime.js"
import { seededRandom } from "../sandbox/SandboxFaults.js"
import { listMismatches } from "./Invariants.js"
import { between, pick, Traffic } from "./Scenario.js"
import { applyFault, type FaultKind, faultKinds, leftover } from "./SoakFaults.js"
import { checkInvariants, type SoakOptions, type SoakReport, soakReport } from "./SoakReport.js"
import { sleep, SoakRig } from "./SoakRig.js"

export { type FaultKind, faultKinds } from "./SoakFaults.js"
export type { SoakOptions, SoakReport } from "./SoakReport.js"

export const runSoak = async (options: SoakOptions): Promise<SoakReport> => {
  if ((options.seconds === undefined) === (options.scenarios === undefined)) throw new Error("runSoak: give seconds or scenarios")
  // Bounded by its work, a run makes every draw whatever the timing: the seed alone decides it.
  const byWork = options.scenarios !== undefined
  const started = Date.now()
  const say = options.progress ?? (() => undefined)
  const random = seededRandom(options.seed)
  const traffic = new Traffic(random, between(random, 4, 8), between(random, 60, 120))
  const faults: Record<string, number> = {}
  const count = (kind: string) => (faults[kind] = (faults[kind] ?? 0) + 1)
  const rig = await SoakRig.start(options.seed, random, say, options.runtime, options.imports)
  const sandbox = rig.sandbox

  const faultPlan = options.faults === undefined ? faultKinds : options.faults as ReadonlyArray<FaultKind>
  const deadline = started + (options.seconds ?? 0) * 1000
  const another = () => (byWork ? scenarios < options.scenarios! : Date.now() < deadline)
  let scenarios = 0
  while (another()) {
    scenarios++
    const fault = pick(random, faultPlan)
    count(fault)
    traffic.randomWords(between(random, 10, 80))
    if (random() < 0.15) traffic.bulkEnter(pick(random, traffic.audiences), between(random, 301, 380))
    say(`${((Date.now() - started) / 1000).toFixed(1)} s: scenario ${scenarios}: ${fault}, ${traffic.pendingEvents} events to send`)
    await applyFault(rig, traffic, random, fault, options.maxStorm ?? 2)
    // Most events go before the first tick (so it has work); the rest flow while ticks run.
    for (let b = between(random, 1, 4); b > 0 && traffic.pendingEvents > 0; b--) await rig.send(traffic.nextBatch(between(random, 20, 400)))
    await sleep(between(random, 0, 300))
    for (let t = between(random, 1, 3); t > 0; t--) {
      const tickStarted = Date.now()
      const outcome = await rig.tickWhileEventsFlow(traffic, byWork)
      if (outcome === "failed") rig.ticks.failed++
      say(`  tick ${outcome} in ${Date.now() - tickStarted} ms, ${rig.tickCalls} calls`)
      // A kill ends the scenario's ticks; bounded by its work, the run goes on with them on the
      // restarted instance, as whether and when a kill lands depends on timing.
      if (outcome === "killed" && !byWork) break
    }
    sandbox.sandbox.setFaults(leftover(rig))
    rig.killAt = undefined
    rig.killAfterMillis = undefined
    if (rig.wasKilled) await rig.restartAfterKill()
    if (fault === "607-then-reset") {
      // The quota is gone until midnight US Central: both clocks move there, and the day turns.
      const now = rig.now()
      await rig.jump(nextCentralMidnight(now) - now + 5_000)
    }
    await rig.skipPause()
  }
  const faultsEnded = Date.now()
  sandbox.sandbox.failImports(0)
  sandbox.sandbox.setFaults([])
  await Promise.all(rig.overlapping)

  // Drain: everything still pending is sent, then ticks run until every list is exact.
  say("faults stopped; draining")
  while (traffic.pendingEvents > 0) await rig.send(traffic.nextBatch(40))
  await rig.sent()
  rig.events.generated = traffic.eventsGenerated
  const desired = traffic.desired()
  const drainStarted = Date.now()
  const drainDeadline = drainStarted + (options.drainSeconds ?? (byWork ? Infinity : 180)) * 1000
  const drainTicks = options.drainTicks ?? (byWork ? 60 : Infinity)
  let drained = false
  let quietTicks = 0
  while (Date.now() < drainDeadline && rig.ticks.drain < drainTicks) {
    // Let the last writes become visible to readers before the tick.
    await sleep(200)
    const tickStarted = Date.now()
    const outcome = await rig.tick()
    say(`  drain tick ${outcome} in ${Date.now() - tickStarted} ms, ${rig.tickCalls} calls`)
    rig.ticks.drain++
    if (outcome === "failed") rig.ticks.failed++
    await rig.skipPause()
    const exact = listMismatches(desired, sandbox.sandbox.snapshot().lists).length === 0
    let idle = false
    try {
      const audiences = (await (await rig.admin("/admin/audiences")).json()) as {
        audiences?: Array<{ pending: { add: number; remove: number }; pendingImports: ReadonlyArray<number> }>
      }
      idle = (audiences.audiences ?? []).every((a) => a.pending.add === 0 && a.pending.remove === 0 && a.pendingImports.length === 0)
    } catch { /* not yet visible: the next tick tells */ }
    quietTicks = exact && idle ? quietTicks + 1 : 0
    if (quietTicks >= 2) {
      drained = true
      break
    }
    // Work still in flight (an import runs for minutes, a lost one is looked for later): the next
    // tick comes a minute later, as the cron's would.
    if (!idle) await rig.jump(60_000)
  }

  // The pages a person reads, after everything the run did.
  for (const path of ["/", "/admin/status", "/admin/audiences"]) await rig.admin(path).catch(() => undefined)

  const checked = checkInvariants(sandbox.sandbox, desired, rig.discoveredAt)
  await rig.close()
  return soakReport({ options, started, faultsEnded, scenarios, faults, rig, desired, drained, checked })
}
