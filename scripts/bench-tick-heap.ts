// npm run bench:tick-heap [-- --heap-mb 64 --setup-heap-mb 128 --members 1000000 --reconcile] — the memory target of one sync
// tick, demonstrated: the same tick as bench:tick (a 1,000,000-member audience, then 2% churn) in
// a Node process whose V8 heap is capped (--max-old-space-size, and a 1 MB young generation
// semi-space). If a tick needed more live memory than the cap, V8 would stop the process with
// "JavaScript heap out of memory"; a run that ends exact is the proof that the ticks' live heap
// stays under the cap. The initial load runs in a process capped at --setup-heap-mb (default 128,
// the Workers limit: its ticks fold 80,000 changes each into shards of up to 15,600 emails), the
// churn rounds in a fresh one capped at --heap-mb (default 64, the target).
//
// Why not in workerd: bench:tick measures there, but Miniflare passes no V8 flags to workerd and
// forcing collections through its inspector stalled the isolate, so workerd's figure includes
// garbage. Here the cap makes V8 collect as it would have to in a 128 MB isolate.
//
// The measured process (scripts/bench/TickHeapChild.ts, bundled by esbuild) holds the product's
// tick with its state in files (as KV holds it outside the isolate); this process holds the Marketo
// sandbox and the expected membership, and checks the sandbox's list after every tick. Setup, as
// in bench:tick: 1,000,000 identify events into the inbox (batches of 10,000), ticks until the list
// is exact; then BENCH_ROUNDS (default 3) rounds of 10,000 exits and 10,000 new members and one
// measured tick: CPU time (process.cpuUsage), wall time, and the heap sampled every 10 ms (used,
// committed, external), with the cap V8 reports, and the storage operations the tick counted (its
// kv_* figures: against files here, counted as Workers KV would bill them). Ends with one JSON line
// (medians over the rounds).
import { buildSync } from "esbuild"
import { type ChildProcess, fork } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { importProfileOf, importTimings } from "../test/sandbox/SandboxConfig.js"
import { startSandboxServer } from "../test/sandbox/server.js"
import { audienceKey, clockLog as log, makeAudience, mb, median, type TickAnswer } from "./bench/TickAudience.js"
import { reconcileCalls } from "../core/5-tick/Reconcile.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const { values: args } = parseArgs({
  options: { "heap-mb": { type: "string", default: "64" }, "setup-heap-mb": { type: "string", default: "128" }, imports: { type: "string" }, members: { type: "string" }, reconcile: { type: "boolean", default: false } }
})
const megabytes = (name: "heap-mb" | "setup-heap-mb") => {
  const value = Number(args[name])
  if (!Number.isInteger(value) || value < 8) throw new Error(`--${name} must be a whole number of megabytes, at least 8 (got ${args[name]})`)
  return value
}
const heapMb = megabytes("heap-mb")
/** `--imports realistic|fast` (or SANDBOX_IMPORTS): how long the sandbox's imports take (realistic by default). */
const imports = importProfileOf(args.imports ?? process.env["SANDBOX_IMPORTS"])
const setupHeapMb = megabytes("setup-heap-mb")
/** `--members N` (or BENCH_MEMBERS): the audience's size, as in bench:tick. */
const MEMBERS = Number(args.members ?? process.env["BENCH_MEMBERS"] ?? 1_000_000)
if (!Number.isInteger(MEMBERS) || MEMBERS < 1_000) throw new Error("--members takes a whole number of at least 1000")
const CHURN = Math.round(MEMBERS * 0.02)
const rounds = Math.max(1, Number(process.env["BENCH_ROUNDS"] ?? 3))
const BATCH = 10_000
const cpuLimitMs = 30_000

interface Measured {
  readonly result: TickAnswer
  readonly wallMs: number
  readonly cpuMs: number
  readonly heapUsedBefore: number
  readonly peakUsed: number
  readonly peakTotal: number
  readonly peakExternal: number
  readonly heapLimit: number
  readonly samples: number
}

interface ReconcileState {
  readonly running: boolean
  readonly lastReconcile?: { readonly membersRead: number; readonly calls: number; readonly missing: number; readonly unexpected: number }
}

/** The measured process and a promise per request; it dying (out of memory) fails every request. */
const bundleChild = (directory: string) => {
  const file = join(directory, "tick-child.mjs")
  buildSync({
    entryPoints: [join(root, "scripts/bench/TickHeapChild.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: file,
    logLevel: "warning"
  })
  return file
}

const withoutNodeOptions = ({ NODE_OPTIONS: _n, ...env }: NodeJS.ProcessEnv) => env

const startChild = (file: string, heapMb: number, endpoint: string, stateDirectory: string) => {
  const child: ChildProcess = fork(file, [], {
    // BENCH_NODE_FLAGS: more flags for the tick processes (e.g. "--cpu-prof --cpu-prof-dir=prof").
    execArgv: [`--max-old-space-size=${heapMb}`, "--max-semi-space-size=1", ...(process.env["BENCH_NODE_FLAGS"] ?? "").split(" ").filter(Boolean)],
    // Without NODE_OPTIONS: a large audience's run gives this process a larger heap through it, and
    // the tick process must have only its cap.
    env: { ...withoutNodeOptions(process.env), BENCH_ENDPOINT: endpoint, BENCH_STATE_DIR: stateDirectory },
    stdio: ["ignore", "inherit", "pipe", "ipc"]
  })
  // V8's own message comes first, its stack trace after: keep the beginning.
  let stderr = ""
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(0, 2000)
  })
  let id = 0
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  child.on("message", (m: { id: number; result?: unknown; error?: string }) => {
    const p = pending.get(m.id)
    pending.delete(m.id)
    if (m.error !== undefined) p?.reject(new Error(m.error))
    else p?.resolve(m.result)
  })
  child.on("exit", (code, signal) => {
    const outOfMemory = /heap out of memory|Allocation failed|OOM/i.test(stderr)
    const error = new Error(
      outOfMemory
        ? `the tick process ran out of its ${heapMb} MB heap:\n${stderr}`
        : `the tick process ended (code ${code}, signal ${signal}):\n${stderr}`
    )
    for (const p of pending.values()) p.reject(error)
    pending.clear()
  })
  const request = <A>(message: object) =>
    new Promise<A>((resolve, reject) => {
      pending.set(++id, { resolve: resolve as (v: unknown) => void, reject })
      child.send({ id, ...message })
    })
  return {
    ingest: async (events: ReadonlyArray<object>) => {
      for (let i = 0; i < events.length; i += BATCH) await request({ op: "ingest", events: events.slice(i, i + BATCH) })
    },
    tick: () => request<TickAnswer>({ op: "tick" }),
    measuredTick: () => request<Measured>({ op: "measuredTick" }),
    startReconcile: () => request<boolean>({ op: "startReconcile", audience: audienceKey }),
    reconcileState: () => request<ReconcileState>({ op: "reconcileState", audience: audienceKey }),
    stop: () => child.connected ? child.disconnect() : undefined
  }
}

const main = async () => {
  const sandbox = await startSandboxServer({
    port: 0,
    host: "127.0.0.1",
    config: importTimings(imports),
    // A call whose body broke off never ran: said, so a lost answer in the run has its cause.
    onBrokenRequest: (b) => log(`sandbox: ${b.method} ${b.path} broke off after ${b.received} bytes (declared ${b.declared}): ${b.error}`)
  })
  const directory = mkdtempSync(join(tmpdir(), "bench-tick-heap-"))
  const file = bundleChild(directory)
  const stateDirectory = join(directory, "state")
  let child = startChild(file, setupHeapMb, sandbox.url, stateDirectory)
  try {
    log(`setup process: --max-old-space-size=${setupHeapMb} --max-semi-space-size=1, state in ${directory}`)
    const audience = makeAudience(MEMBERS, CHURN, rounds)
    const tickUntilExact = (limit: number, label: string) => audience.tickUntilExact(sandbox, child.tick, limit, label, log)

    const setupStarted = Date.now()
    for (let from = 0; from < MEMBERS; from += 100_000) await child.ingest(audience.initialEvents(from, from + 100_000))
    log(`${MEMBERS} members in the inbox in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s; ticking until the list holds them all`)
    // A large load folds 160,000 changes a tick and sends an import per ten of those: allow for it.
    const setupTicks = await tickUntilExact(Math.max(400, Math.ceil(MEMBERS / 2_500)), "initial")
    const setupSeconds = (Date.now() - setupStarted) / 1000
    child.stop()
    child = startChild(file, heapMb, sandbox.url, stateDirectory)
    log(`measured process: --max-old-space-size=${heapMb} --max-semi-space-size=1`)

    const rows: Array<Record<string, number | boolean | string>> = []
    for (let round = 1; round <= rounds; round++) {
      await child.ingest(audience.churnEvents())
      const m = await child.measuredTick()
      const diff = audience.listDiff(sandbox)
      const row = {
        round,
        wall_ms: Math.round(m.wallMs),
        cpu_ms: Math.round(m.cpuMs),
        heap_used_before_mb: mb(m.heapUsedBefore),
        heap_peak_used_mb: mb(m.peakUsed),
        heap_peak_total_mb: mb(m.peakTotal),
        external_peak_mb: mb(m.peakExternal),
        heap_limit_mb: mb(m.heapLimit),
        heap_samples: m.samples,
        calls: m.result.calls,
        changes_folded: m.result.changesFolded,
        kv_reads: m.result.storage.reads,
        kv_writes: m.result.storage.writes,
        kv_deletes: m.result.storage.deletes,
        kv_lists: m.result.storage.lists,
        stopped_by: m.result.stoppedBy ?? "done",
        exact_after_tick: diff.lists === 1 && diff.missing === 0 && diff.extra === 0,
        more_ticks_to_exact: 0
      }
      log(`round ${round}: ${JSON.stringify(row)}`)
      if (!row.exact_after_tick) row.more_ticks_to_exact = await tickUntilExact(60, `round ${round}`)
      rows.push(row)
    }
    const reconciled = args.reconcile ? await reconcilePhase(child, audience, sandbox, tickUntilExact) : {}
    const med = (k: string) => median(rows.map((r) => Number(r[k])))
    console.log(JSON.stringify({
      members: MEMBERS,
      imports,
      churn: CHURN,
      rounds,
      heap_cap_mb: heapMb,
      setup_heap_cap_mb: setupHeapMb,
      setup_s: Math.round(setupSeconds),
      setup_ticks: setupTicks,
      tick_wall_ms: med("wall_ms"),
      tick_cpu_ms: med("cpu_ms"),
      tick_heap_peak_used_mb: med("heap_peak_used_mb"),
      tick_heap_peak_total_mb: med("heap_peak_total_mb"),
      tick_external_peak_mb: med("external_peak_mb"),
      heap_limit_mb: med("heap_limit_mb"),
      tick_calls: med("calls"),
      kv_reads: med("kv_reads"),
      kv_writes: med("kv_writes"),
      kv_deletes: med("kv_deletes"),
      kv_lists: med("kv_lists"),
      exact_after_tick: rows.every((r) => r["exact_after_tick"] === true),
      more_ticks_to_exact: med("more_ticks_to_exact"),
      out_of_memory: false,
      cpu_limit_ms: cpuLimitMs,
      ...reconciled
    }))
  } finally {
    child.stop()
    await sandbox.close()
    rmSync(directory, { recursive: true, force: true })
  }
}

/**
 * `--reconcile`: after the rounds, people's edits by hand (members taken off the list, former
 * members put back on it), then a reconcile started as its admin route starts one and carried on
 * by the ticks, each measured in the capped process, until its run ends; then ticks until the
 * list is exact. Its figures: the run's ticks and calls, the peak heap of its ticks, its report.
 */
const reconcilePhase = async (
  child: ReturnType<typeof startChild>,
  audience: ReturnType<typeof makeAudience>,
  sandbox: Awaited<ReturnType<typeof startSandboxServer>>,
  tickUntilExact: (limit: number, label: string) => Promise<number>
) => {
  const edits = Math.max(10, Math.min(1_000, Math.round(MEMBERS / 1_000)))
  const drifted = audience.drift(sandbox, edits)
  log(`by hand: ${drifted.takenOff} members taken off the list, ${drifted.putOn} former members put on it`)
  if (!(await child.startReconcile())) throw new Error("no reconcile started: the audience has no list")
  const expectedCalls = reconcileCalls(MEMBERS)
  const ticks: Array<Measured> = []
  // Its calls share each tick with the sync's: allow for ticks of a tenth of the window's calls.
  const limit = Math.ceil(expectedCalls / 10) + 20
  let state: ReconcileState = { running: true }
  while (state.running) {
    if (ticks.length >= limit) throw new Error(`the reconcile still runs after ${limit} ticks`)
    const m = await child.measuredTick()
    ticks.push(m)
    state = await child.reconcileState()
    log(`reconcile tick ${ticks.length}: ${m.result.calls} calls, cpu ${Math.round(m.cpuMs)} ms, wall ${Math.round(m.wallMs)} ms, heap peak used ${mb(m.peakUsed)} MB (committed ${mb(m.peakTotal)} MB)`)
  }
  const report = state.lastReconcile
  if (report === undefined) throw new Error("the reconcile ended without a report")
  const more = await tickUntilExact(60, "after the reconcile")
  return {
    reconcile_edits: edits,
    reconcile_missing: report.missing,
    reconcile_unexpected: report.unexpected,
    reconcile_members_read: report.membersRead,
    reconcile_calls: report.calls,
    reconcile_calls_expected: expectedCalls,
    reconcile_ticks: ticks.length,
    reconcile_tick_cpu_ms: median(ticks.map((t) => Math.round(t.cpuMs))),
    reconcile_tick_wall_ms: median(ticks.map((t) => Math.round(t.wallMs))),
    reconcile_heap_peak_used_mb: mb(Math.max(...ticks.map((t) => t.peakUsed))),
    reconcile_heap_peak_total_mb: mb(Math.max(...ticks.map((t) => t.peakTotal))),
    reconcile_ticks_to_exact: more
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
