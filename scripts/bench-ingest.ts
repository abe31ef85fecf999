// npm run bench:ingest — how many Segment events per second `wrangler dev` (workerd, local KV and
// Durable Object) accepts on POST /v1/batch, in batches of 100 and of 500 identify events with
// audience traits. autocannon drives BENCH_CONNECTIONS connections (default 2: the best p99 on
// 2 cores, see docs/benchmarks.md): 3 s of warm-up, then 10 s measured per batch size, in
// BENCH_ROUNDS rounds (default 3); each figure reported is the median over the rounds, computed
// here, with every round's figures beside it. Every answer must be 200 (the run fails otherwise).
// Afterwards the persisted local KV is opened with Miniflare and its inbox keys are counted per
// batch size (a key starts with its receive time), which gives the KV writes per accepted event.
// Ends with one JSON line.
import autocannon from "autocannon"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Miniflare } from "miniflare"

const root = fileURLToPath(new URL("..", import.meta.url))
const port = Number(process.env["BENCH_PORT"] ?? 8797)
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 2)
const warmupSeconds = Number(process.env["BENCH_WARMUP_S"] ?? 3)
const measureSeconds = Number(process.env["BENCH_SECONDS"] ?? 10)
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 3)
const batchSizes = [100, 500]
const ingestToken = "bench-ingest-token"
const kvNamespaceId = "00000000000000000000000000000000" // wrangler.toml's STATE binding
const url = `http://127.0.0.1:${port}`
const persist = mkdtempSync(join(tmpdir(), "bench-ingest-"))

const vars = {
  // Valid settings: ingest checks them, but never calls Marketo.
  MARKETO_ENDPOINT: "https://127.0.0.1:9/rest",
  MARKETO_CLIENT_ID: "bench-client-id",
  MARKETO_CLIENT_SECRET: "bench-client-secret",
  MARKETO_FOLDER: "Engage Audiences",
  INGEST_TOKEN: ingestToken,
  INGEST_SECRET: "bench-ingest-secret",
  ADMIN_TOKEN: "bench-admin-token"
}

const wrangler = spawn(
  process.execPath,
  [
    "node_modules/wrangler/bin/wrangler.js", "dev", "--local", "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(port + 1000), "--show-interactive-dev-session=false", "--log-level", "warn",
    "--persist-to", persist, ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`])
  ],
  {
    cwd: root,
    detached: true, // its own process group, so workerd stops with it
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" }
  }
)
let output = ""
const keep = (chunk: Buffer) => {
  output = (output + chunk.toString()).slice(-4000)
}
wrangler.stdout.on("data", keep)
wrangler.stderr.on("data", keep)

let stopped = false
const stopWrangler = () => {
  if (stopped) return
  stopped = true
  try {
    if (wrangler.pid !== undefined) process.kill(-wrangler.pid, "SIGTERM")
  } catch { /* already gone */ }
}
const waitForExit = () =>
  wrangler.exitCode !== null || wrangler.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        try {
          if (wrangler.pid !== undefined) process.kill(-wrangler.pid, "SIGKILL")
        } catch { /* already gone */ }
        resolve()
      }, 5000)
      wrangler.once("exit", () => {
        clearTimeout(timer)
        resolve()
      })
    })
process.on("exit", stopWrangler)
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopWrangler()
    process.exit(130)
  })
}

/** A Segment identify event from Engage: the audience's trait set true, the email in traits. */
const event = (user: number, batch: number) => ({
  type: "identify",
  userId: `user-${user}`,
  anonymousId: `anon-${user}`,
  messageId: `engage-${batch}-${user}`,
  timestamp: new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + user).toISOString(),
  traits: { email: `user${user}@example.com`, first_name: "Ada", last_name: `Example${user}`, high_value_customers: true },
  context: {
    library: { name: "analytics-node", version: "6.2.0" },
    personas: { computation_key: "high_value_customers", computation_class: "audience", computation_id: "aud_2abc", space_id: "spa_bench" }
  }
})

/** Distinct bodies, sent round-robin: every request carries other users. */
const bodies = (size: number, count: number) =>
  Array.from({ length: count }, (_, b) => JSON.stringify({ batch: Array.from({ length: size }, (_, i) => event(b * size + i, b)) }))

const authorization = `Basic ${Buffer.from(`${ingestToken}:`).toString("base64")}`

const load = (seconds: number, pool: ReadonlyArray<string>) => {
  let next = 0
  return autocannon({
    url: `${url}/v1/batch`,
    connections,
    duration: seconds,
    requests: [{
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      setupRequest: (request) => ({ ...request, body: pool[next++ % pool.length]! })
    }]
  })
}

const main = async () => {
  for (let i = 0; ; i++) {
    if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited:\n${output}`)
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) break
    if (i > 240) throw new Error(`wrangler dev did not answer within 60 s:\n${output}`)
    await new Promise((r) => setTimeout(r, 250))
  }
  const figures: Record<string, unknown> = { connections, warmup_s: warmupSeconds, measured_s: measureSeconds, rounds }
  let accepted = 0
  let failed = 0
  /** Per round and batch size: when its requests started and ended (inbox keys begin with the receive time). */
  const phases: Array<{ size: number; from: number; to: number; requests: number; bodyBytes: number }> = []
  const runsBySize = new Map<number, Array<Record<string, number>>>()
  for (let round = 1; round <= rounds; round++) for (const size of batchSizes) {
    await new Promise((r) => setTimeout(r, 1000))
    const from = Date.now()
    const pool = bodies(size, 200)
    const warm = await load(warmupSeconds, pool)
    const run = await load(measureSeconds, pool)
    await new Promise((r) => setTimeout(r, 1000))
    // Bodies go round-robin, so the requests carried the pool's mean body size.
    const meanBody = pool.reduce((n, b) => n + Buffer.byteLength(b), 0) / pool.length
    phases.push({ size, from, to: Date.now(), requests: warm["2xx"] + run["2xx"], bodyBytes: meanBody * (warm["2xx"] + run["2xx"]) })
    for (const r of [warm, run]) {
      accepted += r["2xx"] * size
      failed += r.non2xx + r.errors + r.timeouts
    }
    const eventsPerSecond = Math.round((run["2xx"] * size) / measureSeconds)
    const row = {
      events_per_s: eventsPerSecond,
      requests_per_s: Math.round(run["2xx"] / measureSeconds),
      p50_ms: run.latency.p50,
      p99_ms: run.latency.p99,
      max_ms: run.latency.max,
      requests_2xx: run["2xx"],
      non_2xx: run.non2xx,
      errors: run.errors + run.timeouts
    }
    runsBySize.set(size, [...(runsBySize.get(size) ?? []), row])
    console.log(`round ${round}, batch ${size}: ${eventsPerSecond} events/s, ${row.requests_per_s} requests/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, non-2xx ${row.non_2xx}, errors ${row.errors}`)
  }
  // Each figure's median over the rounds (non-2xx and errors: their sum), every round kept beside it.
  const median = (xs: ReadonlyArray<number>) => {
    const sorted = [...xs].sort((a, b) => a - b)
    const mid = Math.floor(sorted.length / 2)
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  }
  for (const [size, runs] of runsBySize) {
    const row: Record<string, unknown> = {}
    for (const key of Object.keys(runs[0]!)) {
      const values = runs.map((r) => r[key]!)
      row[key] = key === "non_2xx" || key === "errors" ? values.reduce((a, b) => a + b, 0) : median(values)
    }
    figures[`batch_${size}`] = { ...row, runs }
    console.log(`batch ${size}, median of ${runs.length}: ${row["events_per_s"]} events/s, p50 ${row["p50_ms"]} ms, p99 ${row["p99_ms"]} ms`)
  }
  stopWrangler()
  await waitForExit()

  // What was written: open the persisted KV and count the inbox entries (one versioned key each).
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch: () => new Response('') }",
    kvNamespaces: { STATE: kvNamespaceId },
    kvPersist: join(persist, "v3", "kv")
  })
  let inboxKeys = 0
  let allKeys = 0
  const inboxByPhase = phases.map(() => 0)
  // Bytes stored for the accepted bodies: the inbox entries and their summaries.
  const storedByPhase = phases.map(() => 0)
  try {
    const kv = await mf.getKVNamespace("STATE")
    let cursor: string | undefined
    do {
      const page = await kv.list(cursor === undefined ? {} : { cursor })
      allKeys += page.keys.length
      for (const { name } of page.keys) {
        const prefix = name.startsWith("inbox/") ? "inbox/" : name.startsWith("inboxsum/") ? "inboxsum/" : undefined
        if (prefix === undefined) continue
        const receivedAt = Number(name.slice(prefix.length, prefix.length + 13))
        const phase = phases.findIndex((p) => receivedAt >= p.from && receivedAt <= p.to)
        if (phase >= 0) storedByPhase[phase]! += Buffer.byteLength((await kv.get(name)) ?? "")
        if (prefix !== "inbox/") continue
        inboxKeys++
        if (phase >= 0) inboxByPhase[phase]!++
      }
      cursor = page.list_complete ? undefined : page.cursor
    } while (cursor !== undefined)
  } finally {
    await mf.dispose()
  }
  figures["accepted_events_total"] = accepted
  figures["kv_keys_total"] = allKeys
  figures["kv_inbox_keys"] = inboxKeys
  figures["kv_writes_per_event"] = accepted === 0 ? null : Number((allKeys / accepted).toFixed(4))
  figures["failed_requests"] = failed
  for (const size of batchSizes) {
    const row = figures[`batch_${size}`] as Record<string, unknown>
    const mine = phases.flatMap((p, i) => (p.size === size ? [[p, inboxByPhase[i]!, storedByPhase[i]!] as const] : []))
    const requests = mine.reduce((n, [p]) => n + p.requests, 0)
    const writes = mine.reduce((n, [, w]) => n + w, 0)
    const stored = mine.reduce((n, [, , b]) => n + b, 0)
    const body = mine.reduce((n, [p]) => n + p.bodyBytes, 0)
    row["accepted_requests"] = requests
    row["kv_inbox_writes"] = writes
    row["kv_writes_per_event"] = Number((writes / (requests * size)).toFixed(4))
    row["stored_bytes_per_body_byte"] = body === 0 ? null : Number((stored / body).toFixed(4))
  }
  const bodyBytes = phases.reduce((n, p) => n + p.bodyBytes, 0)
  figures["stored_bytes_per_body_byte"] = bodyBytes === 0 ? null : Number((storedByPhase.reduce((a, b) => a + b, 0) / bodyBytes).toFixed(4))
  console.log(`${accepted} events accepted, ${allKeys} KV keys written (${inboxKeys} inbox entries): ${figures["kv_writes_per_event"]} KV writes per event`)
  console.log(JSON.stringify(figures))
  if (failed > 0) throw new Error(`${failed} requests were not answered 200`)
  if (inboxKeys === 0) throw new Error(`no inbox entry found in ${persist}`)
}

main().then(
  () => {
    rmSync(persist, { recursive: true, force: true })
  },
  (error) => {
    stopWrangler()
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  }
)
