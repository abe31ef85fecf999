// The fault soak: the real worker in workerd (test/soak/WorkerHost.ts) against the Marketo sandbox
// on 127.0.0.1, seeded audience traffic flowing while seeded faults hit Marketo calls, ticks
// killed in the middle, and KV reads that miss recent writes. When the time is up the faults stop,
// ticks run until the backlog is gone, and the invariants are checked (see docs/reliability.md).
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startSandboxServer, type SandboxServer } from "../sandbox/server.js"
import type { FaultRule } from "../sandbox/SandboxFaults.js"
import { seededRandom } from "../sandbox/SandboxFaults.js"
import { nextCentralMidnight } from "../sandbox/CentralTime.js"
import { callsBeyondDiscovery, type ListMismatch, listMismatches, maxCallsInWindow, ownRefusals } from "./Invariants.js"
import { between, pick, Traffic } from "./Scenario.js"
import { bundleWorker, marketoClientSecret, startWorker, type WorkerHost } from "./WorkerHost.js"

export interface SoakOptions {
  readonly seconds: number
  readonly seed: number
  /** Longest time the drain after the faults may take (default 180 s). */
  readonly drainSeconds?: number
  /** Only these fault kinds (default: all of `faultKinds`, each as often as the plan draws it). */
  readonly faults?: ReadonlyArray<string>
  /** The most refusals in one 606/615 storm (default 2). Each one doubles the pause: 1 → 20 s, 2 → 60 s. */
  readonly maxStorm?: number
  /** Progress lines (default: none). */
  readonly progress?: (line: string) => void
}

export interface SoakReport {
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
  readonly sandboxCalls: { readonly total: number; readonly byOutcome: Record<string, number> }
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

const ingestToken = "soak-ingest-token"
const adminToken = "soak-admin-token"
const callsPer20s = 50
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** The secrets the worker holds, by kind; and the shape of the sandbox's access tokens. */
const secrets: ReadonlyArray<readonly [string, string]> = [
  ["MARKETO_CLIENT_SECRET", marketoClientSecret],
  ["INGEST_TOKEN", ingestToken],
  ["ADMIN_TOKEN", adminToken]
]
const sandboxAccessToken = /[0-9a-f]{8}-0000-4000-8000-[0-9a-f]{12}:sb/i
const tokenOrdinal = (authorization: string | undefined) => {
  const hex = /^bearer\s+([0-9a-f]{8})-0000-4000-8000-[0-9a-f]{12}:sb$/i.exec(authorization ?? "")?.[1]
  return hex === undefined ? undefined : Number.parseInt(hex, 16)
}

export type FaultKind =
  | "none" | "606-storm" | "615-storm" | "604" | "608" | "611" | "502" | "drop" | "revoke" | "latency"
  | "607-then-reset" | "import-failed" | "kill" | "long-606-storm"

/** Drawn uniformly (kill twice as often). `long-606-storm` (3 × 606: 140 s of pauses) is only drawn when asked for. */
export const faultKinds: ReadonlyArray<FaultKind> = [
  "none", "606-storm", "615-storm", "604", "608", "611", "502", "drop", "revoke", "latency",
  "607-then-reset", "import-failed", "kill", "kill"
]

export const runSoak = async (options: SoakOptions): Promise<SoakReport> => {
  const started = Date.now()
  const say = options.progress ?? (() => undefined)
  const random = seededRandom(options.seed)
  const traffic = new Traffic(random, between(random, 4, 8), between(random, 60, 120))
  const faults: Record<string, number> = {}
  const count = (kind: string) => (faults[kind] = (faults[kind] ?? 0) + 1)
  const ticks = { run: 0, killed: 0, failed: 0, drain: 0, overlapping: 0, busy: 0 }
  const overlapping: Array<Promise<void>> = []
  const events = { generated: 0, sent: 0, batches: 0, retried: 0 }
  const jumps = { count: 0, millis: 0 }
  const workerErrors: Record<string, number> = {}
  let outputsScanned = 0
  const leaks: Array<string> = []
  const scan = (where: string, text: string) => {
    outputsScanned++
    for (const [kind, secret] of secrets) if (text.includes(secret)) leaks.push(`${kind} in ${where}`)
    if (sandboxAccessToken.test(text)) leaks.push(`a Marketo access token in ${where}`)
  }

  // When a call with a token was first answered 601/602, by token ordinal (sandbox time).
  const discoveredAt = new Map<number, number>()
  // Calls of the running tick, and the call at which to kill it.
  let tickCalls = 0
  let killAt: number | undefined
  let killAfterMillis: number | undefined
  let killed: Promise<void> | undefined

  const persistDir = mkdtempSync(join(tmpdir(), "marketo-soak-"))
  const bundle = bundleWorker()
  let clockOffset = 0
  let host: WorkerHost
  const sandbox: SandboxServer = await startSandboxServer({
    seed: options.seed,
    config: { importQueuedMillis: 1_000, importRunningMillis: 2_000 },
    onExchange: (request, response) => {
      if (response.status === 200 && /"code":"60[12]"/.test(response.body)) {
        const ordinal = tokenOrdinal(request.headers["authorization"])
        if (ordinal !== undefined && !discoveredAt.has(ordinal)) discoveredAt.set(ordinal, sandbox.sandbox.now(Date.now()))
      }
      if (!request.url.startsWith("/identity/")) tickCalls++
      if (killAt !== undefined && tickCalls >= killAt && killed === undefined) {
        killAt = undefined
        killed = host.dispose()
      }
    }
  })

  const start = async () => {
    host = await startWorker({
      bundle,
      persistDir,
      marketoEndpoint: sandbox.url,
      ingestToken,
      adminToken,
      callsPer20s,
      clockOffsetMillis: clockOffset,
      staleMillis: 150,
      staleRate: 0.05,
      seed: options.seed,
      onLog: (line) => {
        scan("worker log", line)
        const level = /"logLevel":"(ERROR|FATAL)"/.exec(line)
        if (/"message":"sync".*"outcome":"busy"/.test(line)) ticks.busy++
        if (process.env["SOAK_DEBUG"] && /ERROR|"message":"(tick|sync)"/.test(line)) say(`    log ${line.slice(0, 400)}`)
        if (level !== null) {
          const message = /"message":"([^"]*)"/.exec(line)?.[1] ?? "?"
          const tag = /"cause":"(\w+)/.exec(line)?.[1] ?? ""
          const key = `${message}${tag === "" ? "" : `: ${tag}`}`
          workerErrors[key] = (workerErrors[key] ?? 0) + 1
        }
      }
    })
  }
  /** Time passes for both the worker and Marketo (the worker restarts on the same state). */
  const jump = async (millis: number) => {
    await host.dispose()
    clockOffset += millis
    sandbox.sandbox.clockOffsetMillis = clockOffset
    jumps.count++
    jumps.millis += millis
    await start()
  }
  await start()

  const admin = async (path: string, init: RequestInit = {}) => {
    const response = await host.fetch(path, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } })
    const text = await response.text()
    scan(`${init.method ?? "GET"} ${path}`, text)
    return new Response(text, { status: response.status, headers: response.headers })
  }

  // Ingest with Segment's credentials (the write key as Basic user name); a refused or lost request
  // is sent again, as Segment does (duplicates change nothing).
  let sending = Promise.resolve()
  const send = (batch: ReadonlyArray<unknown>) => {
    sending = sending.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await host.fetch("/v1/batch", {
            method: "POST",
            body: JSON.stringify({ batch }),
            headers: { "content-type": "application/json", authorization: `Basic ${btoa(`${ingestToken}:`)}` }
          })
          const text = await response.text()
          scan("POST /v1/batch", text)
          const answer = JSON.parse(text) as { accepted?: number; rejected?: Array<unknown> }
          if (response.status === 200 && answer.rejected?.length === 0) {
            events.sent += batch.length
            events.batches++
            return
          }
          if (response.status === 200) throw new Error(`events rejected: ${JSON.stringify(answer.rejected)}`)
        } catch (error) {
          if (error instanceof Error && error.message.startsWith("events rejected")) throw error
        }
        events.retried++
        await (killed ?? sleep(50))
        await sleep(50)
      }
    })
    return sending
  }
  const flowEvents = async (untilDone: Promise<unknown>) => {
    let done = false
    void untilDone.finally(() => (done = true))
    while (!done && traffic.pendingEvents > 0) {
      await send(traffic.nextBatch(between(random, 1, 40)))
      await sleep(between(random, 0, 200))
    }
  }

  /** One tick, by the cron trigger or POST /admin/sync; a tick killed by the soak ends the instance. */
  // The instance was thrown away: it was down long enough for its lease (60 s) and its permits
  // (120 s) to lapse, and a new one starts on the same state.
  const restartAfterKill = async () => {
    await killed
    killed = undefined
    ticks.killed++
    clockOffset += 125_000
    sandbox.sandbox.clockOffsetMillis = clockOffset
    jumps.count++
    jumps.millis += 125_000
    await start()
  }

  /** One tick, by the cron trigger or POST /admin/sync; a tick killed by the soak ends the instance. */
  const tick = async (): Promise<"ok" | "failed" | "killed"> => {
    tickCalls = 0
    ticks.run++
    let timer: ReturnType<typeof setTimeout> | undefined
    if (killAfterMillis !== undefined) {
      const after = killAfterMillis
      killAfterMillis = undefined
      timer = setTimeout(() => {
        if (killAt !== undefined && killed === undefined) {
          killAt = undefined
          killed = host.dispose()
        }
      }, after)
    }
    let outcome: "ok" | "failed"
    try {
      if (random() < 0.5) {
        outcome = (await host.scheduled()) === "ok" ? "ok" : "failed"
      } else {
        const response = await admin("/admin/sync", { method: "POST" })
        const text = await response.text()
        if (process.env["SOAK_DEBUG"]) say(`    sync ${response.status} ${text.replace(/\s+/g, " ").slice(0, 600)}`)
        outcome = response.status === 200 ? "ok" : "failed"
      }
    } catch {
      outcome = "failed"
    }
    clearTimeout(timer)
    // The kill may land as the tick's answer is already on its way: the instance is gone either way.
    if (killed === undefined) return outcome
    await restartAfterKill()
    return "killed"
  }

  /** Waits out a pause the worker announces (a 606/615 back-off or the daily quota) by moving time. */
  const skipPause = async () => {
    try {
      const status = (await (await admin("/admin/status")).json()) as { budget?: { pausedUntil?: number } }
      const until = status.budget?.pausedUntil ?? 0
      const now = Date.now() + clockOffset
      // Past the pause and one quiet window more, which forgives earlier 606/615s.
      if (until > now) await jump(until - now + 21_000)
    } catch { /* the next tick tells */ }
  }

  // Counted rules stay until calls have used them up (a scenario whose ticks made no call passes
  // its faults on to the next); rules by rate last one scenario.
  const leftover = (): Array<FaultRule> =>
    sandbox.sandbox.faults.state.rules.flatMap((r) =>
      r.remaining !== undefined && r.remaining > 0 ? [{ ...r, count: r.remaining }] : []
    ).map(({ remaining: _remaining, ...rule }) => rule as FaultRule)
  const setFaults = async (rules: ReadonlyArray<FaultRule>) => sandbox.sandbox.setFaults([...leftover(), ...rules])

  const faultPlan = options.faults === undefined ? faultKinds : options.faults as ReadonlyArray<FaultKind>
  const deadline = started + options.seconds * 1000
  let scenarios = 0
  while (Date.now() < deadline) {
    scenarios++
    const fault = pick(random, faultPlan)
    count(fault)
    traffic.randomWords(between(random, 10, 80))
    if (random() < 0.15) traffic.bulkEnter(pick(random, traffic.audiences), between(random, 301, 380))
    say(`${((Date.now() - started) / 1000).toFixed(1)} s: scenario ${scenarios}: ${fault}, ${traffic.pendingEvents} events to send`)
    const path = pick(random, ["/rest/v1/", "/rest/asset/", "/bulk/", "/rest/v1/leads", "/rest/v1/lists"])
    switch (fault) {
      case "long-606-storm":
        await setFaults([{ kind: "606", count: 3 }])
        break
      case "606-storm":
      case "615-storm":
        // Other integrations use the instance's budget: a run of refusals.
        // Each refusal pauses the instance a window (20 s), doubling on repeats: a short storm.
        // A storm replaces one still waiting for calls, so storms never add up beyond `maxStorm`.
        sandbox.sandbox.setFaults(leftover().filter((r) => r.kind !== "606" && r.kind !== "615"))
        await setFaults([{ kind: fault === "606-storm" ? "606" : "615", count: between(random, 1, options.maxStorm ?? 2) }])
        break
      case "604":
      case "608":
      case "611":
      case "502":
      case "drop":
        await setFaults([{ kind: fault, ...(random() < 0.5 ? { count: between(random, 1, 3) } : { rate: 0.2 }), ...(random() < 0.5 ? { pathPrefix: path } : {}) }])
        break
      case "revoke":
        await setFaults([{ kind: "revoke", count: 1 }])
        break
      case "latency":
        await setFaults([{ kind: "latency", rate: 0.5, millis: between(random, 200, 1_500) }])
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
        killAt = between(random, 1, 6)
        killAfterMillis = between(random, 5, 400)
        break
      case "none":
        break
    }
    // Most events go before the first tick (so it has work); the rest flow while ticks run.
    for (let b = between(random, 1, 4); b > 0 && traffic.pendingEvents > 0; b--) await send(traffic.nextBatch(between(random, 20, 400)))
    await sleep(between(random, 0, 300))
    for (let t = between(random, 1, 3); t > 0; t--) {
      const tickStarted = Date.now()
      const running = tick()
      // Cron fires every minute whatever the last tick is doing: a tick still running after 60 s
      // (it waits out a rate pause) meets the next one.
      const cron = setTimeout(() => {
        overlapping.push(host.scheduled().then(
          () => undefined,
          () => undefined
        ))
        ticks.overlapping++
      }, 61_000)
      void running.finally(() => clearTimeout(cron))
      await Promise.all([running, flowEvents(running)])
      const outcome = await running
      if (outcome === "failed") ticks.failed++
      say(`  tick ${outcome} in ${Date.now() - tickStarted} ms, ${tickCalls} calls`)
      if (outcome === "killed") break
    }
    sandbox.sandbox.setFaults(leftover())
    killAt = undefined
    killAfterMillis = undefined
    if (killed !== undefined) await restartAfterKill()
    if (fault === "607-then-reset") {
      // The quota is gone until midnight US Central: both clocks move there, and the day turns.
      const now = Date.now() + clockOffset
      await jump(nextCentralMidnight(now) - now + 5_000)
    }
    await skipPause()
  }
  sandbox.sandbox.failImports(0)
  sandbox.sandbox.setFaults([])
  await Promise.all(overlapping)

  // Drain: everything still pending is sent, then ticks run until every list is exact.
  say("faults stopped; draining")
  while (traffic.pendingEvents > 0) await send(traffic.nextBatch(40))
  await sending
  events.generated = traffic.eventsGenerated
  const desired = traffic.desired()
  const drainStarted = Date.now()
  const drainDeadline = drainStarted + (options.drainSeconds ?? 180) * 1000
  let drained = false
  let quietTicks = 0
  while (Date.now() < drainDeadline) {
    // Let the last writes become visible to readers before the tick.
    await sleep(200)
    const tickStarted = Date.now()
    const outcome = await tick()
    say(`  drain tick ${outcome} in ${Date.now() - tickStarted} ms, ${tickCalls} calls`)
    ticks.drain++
    if (outcome === "failed") ticks.failed++
    await skipPause()
    const exact = listMismatches(desired, sandbox.sandbox.snapshot().lists).length === 0
    let idle = false
    try {
      const audiences = (await (await admin("/admin/audiences")).json()) as {
        audiences?: Array<{ pending: { add: number; remove: number }; pendingImports: ReadonlyArray<number> }>
      }
      idle = (audiences.audiences ?? []).every((a) => a.pending.add === 0 && a.pending.remove === 0 && a.pendingImports.length === 0)
    } catch { /* not yet visible: the next tick tells */ }
    quietTicks = exact && idle ? quietTicks + 1 : 0
    if (quietTicks >= 2) {
      drained = true
      break
    }
  }

  // The pages a person reads, after everything the run did.
  for (const path of ["/", "/admin/status", "/admin/audiences"]) await admin(path).catch(() => undefined)

  const snapshot = sandbox.sandbox.snapshot()
  const log = sandbox.sandbox.log
  const mismatches = listMismatches(desired, snapshot.lists)
  const { own606, own615 } = ownRefusals(log)
  const window = maxCallsInWindow(log, 20_000)
  const beyond = callsBeyondDiscovery(log, discoveredAt)
  const counters = sandbox.sandbox.counters()
  await host!.dispose()
  await sandbox.close()
  rmSync(persistDir, { recursive: true, force: true })

  const failures: Array<string> = []
  if (mismatches.length > 0) failures.push(`${mismatches.length} lists differ from their audiences`)
  if (own606 + own615 > 0) failures.push(`${own606} × 606 and ${own615} × 615 caused by the worker's own calls`)
  if (window.max > callsPer20s) failures.push(`${window.max} calls in the 20 s from ${new Date(window.at).toISOString()} (allowed ${callsPer20s})`)
  if (beyond.length > 0) failures.push(`${beyond.length} calls with a token after it was known bad`)
  if (!drained) failures.push("the backlog was not gone before the drain deadline")
  if (leaks.length > 0) failures.push(`${leaks.length} outputs held a secret: ${leaks.slice(0, 5).join("; ")}`)
  return {
    seconds: options.seconds,
    seed: options.seed,
    elapsedSeconds: Math.round((Date.now() - started) / 100) / 10,
    scenarios,
    events,
    faults,
    ticks,
    clockJumps: jumps,
    sandboxCalls: { total: counters.calls, byOutcome: counters.byOutcome },
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
    workerErrors,
    outputsScanned,
    secretsInOutputs: leaks,
    ok: failures.length === 0,
    failures
  }
}
