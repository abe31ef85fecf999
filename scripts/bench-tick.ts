// npm run bench:tick — one sync tick inside workerd for a 1,000,000-member audience with 2% churn.
//
// The worker is bundled offline exactly as `wrangler deploy` would upload it (--dry-run) and run
// in workerd by Miniflare, with its KV namespace and Durable Object, against the Marketo sandbox
// (test/sandbox/server.ts) in this process. Setup goes through the product's own doors: 1,000,000
// identify events through POST /v1/batch (batches of 10,000), then POST /admin/sync until the
// inbox is folded, the imports have landed and the sandbox list holds exactly those members.
// Then, BENCH_ROUNDS times (default 3): 10,000 exits of members and 10,000 new members through
// /v1/batch, and ONE measured tick (POST /admin/sync, Bearer ADMIN_TOKEN):
//   - CPU: utime + stime of the workerd process (/proc/<pid>/stat) across the tick, minus the idle
//     rate measured just before it. workerd also runs Miniflare's KV and Durable Object storage,
//     so this is an upper bound of the worker isolate's own CPU time. The isolate's JavaScript
//     time is measured too, by V8's sampling profiler through the inspector (`isolate_js_ms`:
//     samples in JavaScript or garbage collection, of it `isolate_gc_ms`; scripts/bench/IsolateHeap.ts
//     says what it leaves out): a lower bound of what a Worker's CPU limit counts. Its samples
//     are clock-timed, so a loaded machine inflates it; `isolate_js_sampled_ms` counts each
//     sample for at most two sampling intervals, which the load does not inflate.
//   - memory: the worker isolate's V8 heap (what the 128 MB limit is about), sampled through
//     workerd's inspector (Runtime.getHeapUsage) every 20 ms during the tick: its used size
//     before, and the peaks of used and committed (total) heap. Also the whole workerd process:
//     VmHWM is reset (clear_refs 5) right before the tick, so its peak during the tick can be
//     compared with the RSS right before (this includes Miniflare's local KV and DO storage, and
//     pages V8 keeps after earlier work, so it is a coarse figure).
//   - wall time, Marketo calls (the tick's summary and the sandbox's log), and whether the list is
//     exact afterwards (more ticks run until it is, counted).
//   - storage operations: the KV reads, writes, deletes and lists the tick counted itself, from
//     its answer (core/5-tick/CountingStore.ts).
// Ends with one JSON line (medians over the rounds), which also gives the initial load's Marketo
// calls (`setup_calls`, as the ticks counted them) against the lower bound of that load
// (`setup_bound`, core/3-plan/LowerBound.ts).
import { createWriteStream, writeFileSync } from "node:fs"
import type { Readable } from "node:stream"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Miniflare } from "miniflare"
import { importProfileOf, importTimings } from "../test/sandbox/SandboxConfig.js"
import { startSandboxServer } from "../test/sandbox/server.js"
import { bundleWorker } from "../test/soak/WorkerHost.js"
import { inspectIsolate } from "./bench/IsolateHeap.js"
import { findWorkerd, statOf, statusKb } from "./bench/ProcStats.js"
import { audienceKey, clockLog, email, makeAudience, mb, median, sleep, type TickAnswer } from "./bench/TickAudience.js"
import type { AudienceKey } from "../core/1-events/Ids.js"
import { lowerBound } from "../core/3-plan/LowerBound.js"
import type { PlannedEmail } from "../core/3-plan/PlannedEmail.js"

const root = fileURLToPath(new URL("..", import.meta.url))

/** The fewest calls any correct initial load of these members can make (core/3-plan/LowerBound.ts). */
const initialLoadBound = (members: number): number => {
  const add: Array<PlannedEmail> = []
  for (let u = 0; u < members; u++) add.push({ email: email(u) as PlannedEmail["email"] })
  return lowerBound({ audience: audienceKey as AudienceKey, listName: audienceKey, folderName: "Engage Audiences", add, remove: [], pendingImports: [] })
}
/** `--members N` (or BENCH_MEMBERS): the audience's size. */
const membersArg = process.argv.indexOf("--members")
const MEMBERS = Number(membersArg >= 0 ? process.argv[membersArg + 1] : process.env["BENCH_MEMBERS"] ?? 1_000_000)
if (!Number.isInteger(MEMBERS) || MEMBERS < 1_000) throw new Error("--members takes a whole number of at least 1000")
/**
 * `--imports realistic|fast` (or SANDBOX_IMPORTS): how long the sandbox's imports take. Realistic
 * (the default) makes the 1,000,000-member setup last about 40 minutes; fast, a few.
 */
const importsArg = process.argv.indexOf("--imports")
const imports = importProfileOf(importsArg >= 0 ? process.argv[importsArg + 1] : process.env["SANDBOX_IMPORTS"])
const CHURN = Math.round(MEMBERS * 0.02)
const rounds = Math.max(1, Number(process.env["BENCH_ROUNDS"] ?? 3))
const BATCH = 10_000
const ingestToken = "bench-ingest-token"
const adminToken = "bench-admin-token"
const clockTicks = 100 // USER_HZ on Linux
const cpuLimitMs = 30_000 // Workers' default CPU limit per invocation (wrangler.toml sets no [limits])
const memoryLimitMb = 128
const inspectorPort = Number(process.env["BENCH_INSPECTOR_PORT"] ?? 9329)
const log = clockLog

const main = async () => {
  const sandbox = await startSandboxServer({
    port: 0,
    host: "127.0.0.1",
    config: importTimings(imports),
    // A call whose body broke off never ran: said, so a lost answer in the run has its cause.
    onBrokenRequest: (b) => log(`sandbox: ${b.method} ${b.path} broke off after ${b.received} bytes (declared ${b.declared}): ${b.error}`)
  })
  let mf: Miniflare | undefined
  const cleanup = async () => {
    await mf?.dispose().catch(() => undefined)
    mf = undefined
    await sandbox.close()
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void cleanup().then(() => process.exit(130)))
  try {
    log("bundling the worker (wrangler deploy --dry-run)")
    const bundle = bundleWorker()
    const modulePath = join(root, "bench-tick-worker.mjs")
    let workerLines = 0
    // BENCH_WORKER_LOG=<file>: the worker's whole output kept there (its log lines, one per event).
    const workerLog = process.env["BENCH_WORKER_LOG"] === undefined ? undefined : createWriteStream(process.env["BENCH_WORKER_LOG"])
    mf = new Miniflare({
      inspectorPort,
      handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
        stdout.on("data", (chunk: Buffer) => {
          workerLines++
          workerLog?.write(chunk)
        })
        stderr.on("data", (chunk: Buffer) => {
          const text = chunk.toString()
          workerLog?.write(chunk)
          if (/error/i.test(text)) process.stderr.write(text.slice(0, 2000))
        })
      },
      workers: [{
        name: "marketo-static-lists",
        unsafeInspectorProxy: true,
        modules: [{ type: "ESModule", path: modulePath, contents: bundle }],
        compatibilityDate: "2026-03-01",
        compatibilityFlags: ["nodejs_compat"],
        bindings: {
          // wrangler.toml's vars, and local credentials for the sandbox.
          MARKETO_ENDPOINT: sandbox.url,
          MARKETO_CLIENT_ID: "local-client-id",
          MARKETO_CLIENT_SECRET: "local-client-secret",
          MARKETO_FOLDER: "Engage Audiences",
          MARKETO_CALLS_PER_20S: "50",
          MARKETO_MAX_CONCURRENCY: "5",
          MARKETO_DAILY_QUOTA: "50000",
          MARKETO_DAILY_RESERVE: "5000",
          INGEST_TOKEN: ingestToken,
          INGEST_SECRET: "bench-ingest-secret",
          ADMIN_TOKEN: adminToken
        },
        kvNamespaces: { STATE: "state" },
        durableObjects: { MARKETO_INSTANCE: { className: "MarketoInstance", useSQLite: true } }
      }]
    })
    await mf.ready
    const workerd = findWorkerd()
    const isolate = await inspectIsolate(inspectorPort, "marketo-static-lists")
    log(`workerd pid ${workerd}, RSS ${Math.round(statusKb(workerd, "VmRSS") / 1024)} MB`)

    const fetchWorker = async (path: string, init: { method: string; headers: Record<string, string>; body?: string }) => {
      const response = await mf!.dispatchFetch(`http://bench.local${path}`, init)
      return { status: response.status, text: await response.text() }
    }
    const authorization = `Basic ${Buffer.from(`${ingestToken}:`).toString("base64")}`
    const ingest = async (events: ReadonlyArray<object>) => {
      for (let i = 0; i < events.length; i += BATCH) {
        const body = JSON.stringify({ batch: events.slice(i, i + BATCH) })
        const r = await fetchWorker("/v1/batch", { method: "POST", headers: { "content-type": "application/json", authorization }, body })
        if (r.status !== 200) throw new Error(`ingest answered ${r.status}: ${r.text.slice(0, 300)}`)
      }
    }
    const tick = async (): Promise<TickAnswer> => {
      for (;;) {
        const r = await fetchWorker("/admin/sync", { method: "POST", headers: { authorization: `Bearer ${adminToken}` } })
        if (r.status === 409) {
          await sleep(1000)
          continue
        }
        if (r.status !== 200) throw new Error(`sync answered ${r.status}: ${r.text.slice(0, 300)}`)
        return JSON.parse(r.text) as TickAnswer
      }
    }

    const audience = makeAudience(MEMBERS, CHURN, rounds)
    const sandboxCalls = () => sandbox.sandbox.state.log.length
    const listDiff = () => audience.listDiff(sandbox)
    // The Marketo calls the ticks say they made (the sandbox's log also holds token requests).
    let callsCounted = 0
    const countedTick = async () => {
      const answer = await tick()
      callsCounted += answer.calls
      return answer
    }
    const tickUntilExact = (limit: number, label: string) => audience.tickUntilExact(sandbox, countedTick, limit, label, log)

    // ------------------------------------------------------------ setup: the initial load
    const setupStarted = Date.now()
    log(`sending ${MEMBERS} members through /v1/batch in batches of ${BATCH}`)
    for (let from = 0; from < MEMBERS; from += 100_000) await ingest(audience.initialEvents(from, from + 100_000))
    const ingestSeconds = (Date.now() - setupStarted) / 1000
    log(`ingested in ${ingestSeconds.toFixed(1)} s; ticking until the list holds them all`)
    // A large load folds 160,000 changes a tick and sends an import per ten of those: allow for it.
    const initialTicks = await tickUntilExact(Math.max(400, Math.ceil(MEMBERS / 2_500)), "initial")
    const setupSeconds = (Date.now() - setupStarted) / 1000
    const setupCalls = callsCounted
    const setupBound = initialLoadBound(MEMBERS)
    log(`initial load synced in ${setupSeconds.toFixed(1)} s (${initialTicks} ticks, ${setupCalls} calls, bound ${setupBound}), sandbox list ${listDiff().size}`)

    // ------------------------------------------------------------ measured rounds
    const rows: Array<Record<string, number | boolean | string>> = []
    for (let round = 1; round <= rounds; round++) {
      const events = audience.churnEvents()
      await ingest(events)
      await sleep(500)

      // Idle baseline, then the tick.
      const idleFrom = statOf(workerd).cpuTicks
      const idleStarted = performance.now()
      await sleep(2000)
      const idleRate = (statOf(workerd).cpuTicks - idleFrom) / (performance.now() - idleStarted) // ticks per ms
      const rssBefore = statusKb(workerd, "VmRSS")
      writeFileSync(`/proc/${workerd}/clear_refs`, "5") // VmHWM := VmRSS
      const callsBefore = sandboxCalls()
      const cpuBefore = statOf(workerd).cpuTicks
      const started = performance.now()
      const sampled = await isolate.during(() => isolate.cpuDuring(tick))
      const summary = sampled.result.result
      const wallMs = performance.now() - started
      const cpuTicks = statOf(workerd).cpuTicks - cpuBefore
      const peak = statusKb(workerd, "VmHWM")
      const rssAfter = statusKb(workerd, "VmRSS")
      const cpuMs = Math.max(0, (cpuTicks * 1000) / clockTicks - idleRate * wallMs * (1000 / clockTicks))
      const diff = listDiff()
      const exactAfterTick = diff.lists === 1 && diff.missing === 0 && diff.extra === 0
      const row = {
        round,
        wall_ms: Math.round(wallMs),
        cpu_ms: Math.round(cpuMs),
        isolate_js_ms: Math.round(sampled.result.jsMs),
        isolate_js_sampled_ms: Math.round(sampled.result.jsSampledMs),
        isolate_gc_ms: Math.round(sampled.result.gcMs),
        isolate_program_ms: Math.round(sampled.result.programMs),
        heap_used_before_mb: mb(sampled.before.usedSize),
        heap_peak_used_mb: mb(sampled.peakUsed),
        heap_peak_total_mb: mb(sampled.peakTotal),
        heap_samples: sampled.samples,
        peak_rss_mb: Math.round(peak / 1024),
        rss_before_mb: Math.round(rssBefore / 1024),
        rss_after_mb: Math.round(rssAfter / 1024),
        peak_growth_mb: Math.round((peak - rssBefore) / 1024),
        calls: summary.calls,
        sandbox_calls: sandboxCalls() - callsBefore,
        changes_folded: summary.changesFolded,
        kv_reads: summary.storage.reads,
        kv_writes: summary.storage.writes,
        kv_deletes: summary.storage.deletes,
        kv_lists: summary.storage.lists,
        stopped_by: summary.stoppedBy ?? "done",
        exact_after_tick: exactAfterTick,
        missing_after_tick: diff.missing,
        extra_after_tick: diff.extra,
        more_ticks_to_exact: 0
      }
      log(`round ${round}: ${JSON.stringify(row)}`)
      if (!exactAfterTick) {
        row.more_ticks_to_exact = await tickUntilExact(60, `round ${round}`)
      }
      rows.push(row)
    }

    const med = (k: string) => median(rows.map((r) => Number(r[k])))
    const figures = {
      members: MEMBERS,
      imports,
      churn: CHURN,
      rounds,
      setup_ingest_s: Math.round(ingestSeconds),
      setup_total_s: Math.round(setupSeconds),
      setup_ticks: initialTicks,
      setup_calls: setupCalls,
      setup_bound: setupBound,
      setup_ratio: Math.round((setupCalls / setupBound) * 100) / 100,
      tick_wall_ms: med("wall_ms"),
      tick_cpu_ms: med("cpu_ms"),
      tick_isolate_js_ms: med("isolate_js_ms"),
      tick_isolate_js_sampled_ms: med("isolate_js_sampled_ms"),
      tick_isolate_gc_ms: med("isolate_gc_ms"),
      tick_heap_peak_used_mb: med("heap_peak_used_mb"),
      tick_heap_peak_total_mb: med("heap_peak_total_mb"),
      heap_used_before_mb: med("heap_used_before_mb"),
      tick_peak_rss_growth_mb: med("peak_growth_mb"),
      workerd_peak_rss_mb: med("peak_rss_mb"),
      workerd_rss_before_mb: med("rss_before_mb"),
      tick_calls: med("calls"),
      tick_sandbox_calls: med("sandbox_calls"),
      kv_reads: med("kv_reads"),
      kv_writes: med("kv_writes"),
      kv_deletes: med("kv_deletes"),
      kv_lists: med("kv_lists"),
      exact_after_tick: rows.every((r) => r["exact_after_tick"] === true),
      more_ticks_to_exact: med("more_ticks_to_exact"),
      cpu_limit_ms: cpuLimitMs,
      memory_limit_mb: memoryLimitMb,
      worker_log_chunks: workerLines
    }
    isolate.close()
    console.log(JSON.stringify({ rows }))
    console.log(JSON.stringify(figures))
  } finally {
    await cleanup()
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error)
  process.exitCode = 1
})
