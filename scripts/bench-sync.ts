// npm run bench:sync — this product's sync against the in-process Marketo sandbox, with simulated
// time and Marketo's real limits, beside two baselines run on the same sandbox: Segment's hosted
// destination (hourly batches) and the per-record strategy of simpler tools. Scenarios: those of
// bench:plan, a 1,000,000-email initial load, and a realistic day, under the sandbox's realistic
// imports (the default) or fast ones, or both. The CPU of each strategy's work is charged to
// simulated time; Segment's hourly run comes at phases of the hour drawn from the seed, and its
// figures are the medians over them. Prints a table per scenario, writes the charts to docs/, and
// ends with one JSON line. Every strategy sends each member's first and last name with its lead
// (--no-fields: emails only).
//   npm run bench:sync -- [--imports realistic|fast|fast,realistic] [--only name,name]
//     [--strategies ours,segment_hourly,per_record] [--seed 7] [--phases 5] [--day-phases 3] [--no-charts] [--no-fields]
import { writeFileSync } from "node:fs"
import { Effect, Logger, LogLevel } from "effect"
import { compactedEntries, loadParts, merged } from "../core/2-ledger/PendingIndex.js"
import type { Email } from "../core/1-events/Email.js"
import type { AudienceKey, LeadId, ListId } from "../core/1-events/Ids.js"
import { type BoundLimits, lowerBound, marketoBoundLimits } from "../core/3-plan/LowerBound.js"
import { headerBytes, importFiles, rowBytes } from "../core/3-plan/ImportFiles.js"
import { fieldsOfPlanned } from "../core/3-plan/PlannedEmail.js"
import { MarketoLimits } from "../core/marketo/MarketoLimits.js"
import { observeImport } from "../core/3-plan/ImportLatency.js"
import type { ImportTiming } from "../core/3-plan/Planner.js"
import { readImportLatency, writeImportLatency } from "../core/5-tick/ImportTiming.js"
import { importProfileOf, importTimings, type ImportProfile } from "../test/sandbox/SandboxConfig.js"
import { seededRandom } from "../test/sandbox/SandboxFaults.js"
import type { AudienceDelta, PlannedEmail } from "../core/3-plan/PlannedEmail.js"
import { StateStore } from "../core/ports/StateStore.js"
import { DEFAULT_SHARD_COUNT } from "../core/2-ledger/Sharding.js"
import { callsChart, latencyChart } from "./bench/Chart.js"
import { runScenario, type ScenarioResult } from "./bench/RunScenario.js"
import { initialLoad1m, type PlanScenario, planScenarios, realisticDay } from "./bench/Scenarios.js"
import type { World, WorldOptions } from "./bench/SimWorld.js"
import { namesOf } from "./bench/SimEvents.js"
import { cpuCharge } from "./bench/SimWorld.js"
import { type KnowsLeadIds, ours, perRecord, segmentHourly, type Strategy } from "./bench/Strategies.js"

const args = process.argv.slice(2)
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`)
  return i < 0 ? undefined : args[i + 1]
}
const only = arg("only")?.split(",")
const seed = Number(arg("seed") ?? 7)
const profiles: ReadonlyArray<ImportProfile> = (arg("imports") ?? "realistic").split(",").map(importProfileOf)
const phases = Number(arg("phases") ?? 5)
const dayPhases = Number(arg("day-phases") ?? 3)
const charts = !args.includes("--no-charts")
const strategyFilter = arg("strategies")?.split(",")
const fields = !args.includes("--no-fields")
const wanted = (name: string) => only === undefined || only.includes(name)

// 2026-11-20 00:00 UTC is 18:00 the day before in Chicago: setups run before the quota day starts.
const start = Date.UTC(2026, 10, 20)
const chicagoMidnight = Date.UTC(2026, 10, 20, 6)
const latencyMillis = 300
/** This product's defaults: half of Marketo's window, 5 in flight, 5,000 of the quota kept for others. */
const oursBudget = { callsPerWindow: 50, windowMillis: 20_000, maxConcurrency: 5, dailyQuota: 50_000, dailyReserve: 5_000 }
/** A tool that uses all Marketo allows. */
const fullBudget = { callsPerWindow: 100, windowMillis: 20_000, maxConcurrency: 10, dailyQuota: 50_000, dailyReserve: 0 }

type StrategyName = "ours" | "segment_hourly" | "per_record"
const allStrategies: Record<StrategyName, { make: (w: World, phase: number) => Strategy; budget: WorldOptions["budget"] }> = {
  ours: { make: (w) => ours(w, { fields }), budget: oursBudget },
  segment_hourly: { make: (w, phase) => segmentHourly(w, phase, fields), budget: fullBudget },
  per_record: { make: (w) => perRecord(w, fields), budget: fullBudget }
}
const strategies = Object.fromEntries(
  Object.entries(allStrategies).filter(([name]) => strategyFilter === undefined || strategyFilter.includes(name))
) as typeof allStrategies

/**
 * Every strategy gets the same lead ids, as if earlier syncs had learned every id: ours in its
 * ledger's cache, the baselines in their own memory.
 */
const learnIds = (world: World, strategy: Strategy) =>
  "learnIds" in strategy
    ? Effect.sync(() => (strategy as Strategy & KnowsLeadIds).learnIds(world.sandbox.state.byEmail as unknown as ReadonlyMap<string, ReadonlyArray<LeadId>>))
    : learnOurIds(world)

const learnOurIds = (world: World) =>
  Effect.gen(function*() {
    const store = yield* StateStore
    const key = "bench" as AudienceKey
    const parts = yield* loadParts(key, Array.from({ length: DEFAULT_SHARD_COUNT }, (_, i) => i), "audience")
    const writes: Array<readonly [string, string]> = []
    for (const { base, index } of parts.values()) {
      const shard = merged(base, index)
      const emails = { ...shard.emails }
      for (const email of Object.keys(emails)) {
        const ids = world.sandbox.state.byEmail.get(email) ?? []
        emails[email] = { ...emails[email]!, leadIds: ids as Array<LeadId> }
      }
      writes.push(...compactedEntries(key, { ...shard, emails }, "audience"))
    }
    yield* store.setMany(writes)
  }).pipe(Effect.provide(world.services), Effect.orDie)

/**
 * Ours after its setup as an instance that has run imports of every size for a while: what its
 * polls would have taught it of this sandbox's import time, to the tick (a poll a tick before the
 * end saw it running, the poll after saw it ended). The baselines learn nothing, needing nothing.
 * Without it, one import polled at the 10-minute prior teaches "10 minutes", and under fast
 * imports ours would upsert what an import lands in seconds.
 */
const settledLatency = (world: World, strategy: Strategy, profile: ImportProfile) =>
  strategy.name !== "ours"
    ? Effect.void
    : Effect.gen(function*() {
      const t = importTimings(profile)
      const tick = 60_000
      let latency = yield* readImportLatency
      for (let k = 8; k <= 20; k++) {
        const rows = 2 ** k
        const took = t.importQueuedMillis + t.importRunningMillis + rows * t.importRunningMillisPerRow
        const endedBy = Math.ceil(took / tick) * tick
        if (endedBy - tick > 0) latency = observeImport(latency, rows, endedBy - tick, false, 0)
        latency = observeImport(latency, rows, endedBy, true, 0)
      }
      yield* writeImportLatency(latency)
    }).pipe(Effect.provide(world.services), Effect.orDie)

/** The planner's view of new members: with their names when names are sent (the import file grows). */
const fakeEmails = (n: number, prefix: string): Array<PlannedEmail> =>
  Array.from({ length: n }, (_, i) => ({
    email: `${prefix}${i}@example.com` as Email,
    ...(fields ? { fields: { values: namesOf(`${prefix}${i}`), at: 0, digest: "" } } : {})
  }))
const withIds = (es: Array<PlannedEmail>) => es.map((e, i) => ({ ...e, leadIds: [(i + 1) as LeadId] }))

/**
 * What the bound is told of time, from the sandbox's own import timing (nothing ahead in its queue):
 * the events arrive 30 s before a tick; an import sent on that tick is confirmed by the poll of the
 * first tick after it ends; the latency target (5 minutes) leaves 270 s from that tick, five ticks
 * of at most 62 calls (50 per 20 s over a 25 s tick).
 */
const boundTiming = (profile: ImportProfile): ImportTiming => {
  const t = importTimings(profile)
  return {
    confirmMillis: (rows) => Math.ceil((t.importQueuedMillis + t.importRunningMillis + rows * t.importRunningMillisPerRow) / 60_000) * 60_000,
    leftMillis: 270_000,
    affordableCalls: 5 * 62
  }
}

const boundOf = (s: PlanScenario, profile: ImportProfile): number => {
  const delta: AudienceDelta = {
    audience: "bench" as AudienceKey,
    listName: "bench",
    folderName: "Engage Audiences",
    ...(s.delta.newList ? {} : { listId: 1 as ListId }),
    add: fakeEmails(s.delta.addUnknown, "user"),
    remove: [...withIds(fakeEmails(s.delta.removeKnown, "old")), ...fakeEmails(s.delta.removeUnknown, "old")],
    pendingImports: []
  }
  return lowerBound(delta, boundTiming(profile), fields ? namedRowLimits(delta.add) : marketoBoundLimits)
}

/**
 * With names sent, an import row carries them (`email,firstName,lastName`): m files hold fewer
 * rows than email-only rows, and the bound sizes each row as the sync writes it.
 */
const namedRowLimits = (adds: ReadonlyArray<PlannedEmail>): BoundLimits => {
  const fieldsOf = fieldsOfPlanned(adds)
  const columns = ["firstName", "lastName"]
  const perFile = MarketoLimits.maxImportFileBytes - headerBytes(columns)
  return {
    ...marketoBoundLimits,
    files: (emails) => importFiles(emails, fieldsOf).length,
    rowsIn: (emails) => {
      const upTo = [0]
      for (const size of emails.map((e) => rowBytes(e, columns, fieldsOf)).sort((a, b) => a - b)) upTo.push(upTo[upTo.length - 1]! + size)
      return (m) => {
        let lo = 0
        let hi = upTo.length - 1
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1
          if (upTo[mid]! <= m * perFile) lo = mid
          else hi = mid - 1
        }
        return lo
      }
    }
  }
}

interface Row {
  calls: number
  sim_seconds: number
  refused: number
  exact: boolean
  wall_seconds: number
  failed_batches: number
  named: number
  lower_bound?: number
  ratio?: number
  latency_p50_s?: number
  latency_p95_s?: number
  latency_max_s?: number
  changes?: number
}

const rowOf = (r: ScenarioResult, bound?: number, latency = false): Row => ({
  calls: r.calls,
  sim_seconds: r.sim_seconds,
  refused: r.refused,
  exact: r.exact,
  wall_seconds: r.wall_seconds,
  failed_batches: r.failed_batches,
  named: r.named,
  ...(bound === undefined ? {} : { lower_bound: bound, ratio: bound === 0 ? (r.calls === 0 ? 1 : Number.POSITIVE_INFINITY) : Math.round((r.calls / bound) * 100) / 100 }),
  ...(latency ? { latency_p50_s: r.latency.p50_s, latency_p95_s: r.latency.p95_s, latency_max_s: r.latency.max_s, changes: r.latency.changes } : {})
})

const print = (name: string, rows: Partial<Record<StrategyName, Row>>) => {
  console.log(`\n${name}`)
  console.log("  strategy         calls  bound  ratio  sim time   refused  exact  named  p50 / p95 latency   failed   wall")
  for (const [strategy, r] of Object.entries(rows)) {
    if (r === undefined) continue
    const lat = r.latency_p50_s === undefined ? "" : `${r.latency_p50_s} s / ${r.latency_p95_s} s`
    console.log(
      `  ${strategy.padEnd(15)} ${String(r.calls).padStart(6)} ${String(r.lower_bound ?? "").padStart(6)} ${String(r.ratio ?? "").padStart(6)}  ${`${r.sim_seconds} s`.padStart(9)}  ${String(r.refused).padStart(7)}  ${String(r.exact).padStart(5)}  ${String(r.named).padStart(5)}  ${lat.padStart(17)}  ${String(r.failed_batches).padStart(6)}   ${r.wall_seconds} s`
    )
  }
}

const median = (xs: ReadonlyArray<number>) => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round(((sorted[mid - 1]! + sorted[mid]!) / 2) * 10) / 10
}

/** Each figure's median over the runs (exact only if every run was); the phases drawn are kept. */
const medianRow = (runs: ReadonlyArray<Row>, phaseList: ReadonlyArray<number>): Row & { phases: ReadonlyArray<number> } => {
  const out: Record<string, unknown> = { phases: phaseList }
  for (const key of Object.keys(runs[0]!) as Array<keyof Row>) {
    out[key] = key === "exact" ? runs.every((r) => r.exact) : median(runs.map((r) => r[key] as number))
  }
  return out as unknown as Row & { phases: ReadonlyArray<number> }
}

/** Phases of the hour (minutes) for Segment's runs, drawn from the seed. */
const drawPhases = (n: number, salt: number) => {
  const random = seededRandom(seed * 1_000 + salt)
  return Array.from({ length: n }, () => Math.floor(random() * 60))
}

const runPlanScenario = (name: string, s: PlanScenario, limitMillis: number, profile: ImportProfile, salt: number) =>
  Effect.gen(function*() {
    const rows: Partial<Record<StrategyName, Row>> = {}
    const bound = boundOf(s, profile)
    for (const [strategy, { budget, make }] of Object.entries(strategies) as Array<[StrategyName, typeof strategies[StrategyName]]>) {
      const phaseList = strategy === "segment_hourly" ? drawPhases(phases, salt) : [0]
      const runs: Array<Row> = []
      for (const phase of phaseList) {
        const result = yield* runScenario({
          label: `${name} ${strategy}${phaseList.length > 1 ? ` phase ${phase}` : ""}`,
          world: { start, budget, latencyMillis, imports: profile },
          strategy: (w) => make(w, phase),
          setup: s.setup,
          ...(s.setup.length === 0 ? {} : {
            afterSetup: (w: World, strategy: Strategy) =>
              Effect.andThen(settledLatency(w, strategy, profile), s.idsKnown ? learnIds(w, strategy) : Effect.void)
          }),
          events: s.events,
          // Sent in the middle of a minute: the next tick is 30 s away.
          offsetMillis: 30_000,
          limitMillis
        })
        runs.push(rowOf(result, bound))
      }
      rows[strategy] = phaseList.length === 1 ? runs[0]! : medianRow(runs, phaseList)
    }
    print(`${name} (${profile} imports)`, rows)
    return rows
  })

const runProfile = (profile: ImportProfile) =>
  Effect.gen(function*() {
    const results: Record<string, Partial<Record<StrategyName, Row>>> = {}
    let salt = 0
    for (const [name, s] of Object.entries(planScenarios())) {
      salt++
      if (wanted(name)) results[name] = yield* runPlanScenario(name, s, 6 * 3_600_000, profile, salt)
    }
    if (wanted("initial_load_1m")) results["initial_load_1m"] = yield* runPlanScenario("initial_load_1m", initialLoad1m(), 6 * 3_600_000, profile, ++salt)
    if (wanted("realistic_day")) {
      const dayScenario = realisticDay(seed)
      console.log(`\nrealistic_day (${profile} imports): ${JSON.stringify(dayScenario.facts)}`)
      const rows: Partial<Record<StrategyName, Row>> = {}
      const perHour: Partial<Record<StrategyName, ReadonlyArray<number>>> = {}
      for (const [strategy, { budget, make }] of Object.entries(strategies) as Array<[StrategyName, typeof strategies[StrategyName]]>) {
        // Ours spends at most half the quota: the other half is left to the instance's other integrations.
        const dayBudget = strategy === "ours" ? { ...budget, dailyReserve: 25_000 } : budget
        const phaseList = strategy === "segment_hourly" ? drawPhases(dayPhases, 100) : [0]
        const runs: Array<Row> = []
        for (const phase of phaseList) {
          const result = yield* runScenario({
            label: `${strategy}${phaseList.length > 1 ? ` phase ${phase}` : ""}`,
            world: { start, budget: dayBudget, latencyMillis, imports: profile },
            strategy: (w) => make(w, phase),
            setup: dayScenario.setup,
            events: dayScenario.events,
            notBefore: chicagoMidnight,
            limitMillis: 26 * 3_600_000,
            quietMinutes: strategy === "segment_hourly" ? 61 : 3
          })
          runs.push(rowOf(result, undefined, true))
          perHour[strategy] ??= result.callsPerHour
        }
        rows[strategy] = phaseList.length === 1 ? runs[0]! : medianRow(runs, phaseList)
      }
      print(`realistic_day (${profile} imports)`, rows)
      results["realistic_day"] = rows
      if (charts && profile === profiles[profiles.length - 1]) {
        writeFileSync("docs/bench-sync-calls.svg", callsChart(perHour, 50_000))
        writeFileSync("docs/bench-sync-latency.svg", latencyChart(rows))
        console.log("\ncharts: docs/bench-sync-calls.svg, docs/bench-sync-latency.svg")
      }
    }
    return results
  })

const main = Effect.gen(function*() {
  const byProfile: Record<string, unknown> = {}
  for (const profile of profiles) byProfile[profile] = yield* runProfile(profile)
  console.log(JSON.stringify({
    seed,
    latency_ms_per_call: latencyMillis,
    fields,
    segment_phases: phases,
    cpu_charged_s: Math.round(cpuCharge.chargedMillis / 100) / 10,
    imports: byProfile
  }))
})

// The sync logs every step; the bench prints only its tables (warnings and errors still show).
Effect.runPromise(main.pipe(Logger.withMinimumLogLevel(LogLevel.Warning))).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)

