// What the soak runs and how it acts on it: the sandbox server on 127.0.0.1 and the real worker in
// workerd (restarted on the same persisted state after a kill or a clock jump), Segment's ingest
// with its retries, admin calls, ticks (by cron or POST /admin/sync, killed on cue), and the
// counts the report is made of. Everything the worker answers or logs goes through the secret scan.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { SandboxRequest, SandboxResponse } from "../sandbox/SandboxModel.js"
import { type ImportProfile, importTimings } from "../sandbox/SandboxConfig.js"
import { type SandboxServer, startSandboxServer } from "../sandbox/server.js"
import { between, type Random, type Traffic } from "./Scenario.js"
import { adminToken, ingestToken, SecretScan, tokenOrdinal } from "./SecretScan.js"
import { startDenoWorker } from "./DenoHost.js"
import { bundleWorker, startWorker, type WorkerHost } from "./WorkerHost.js"

export const callsPer20s = 50
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export type TickOutcome = "ok" | "failed" | "killed"

/** Where the worker runs: workerd (the Cloudflare worker) or the Deno server. */
export type SoakRuntime = "cloudflare" | "deno"

export class SoakRig {
  readonly ticks = { run: 0, killed: 0, failed: 0, drain: 0, overlapping: 0, busy: 0 }
  readonly events = { generated: 0, sent: 0, batches: 0, retried: 0 }
  readonly jumps = { count: 0, millis: 0 }
  readonly workerErrors: Record<string, number> = {}
  readonly secrets = new SecretScan()
  /** Cron ticks fired while a tick ran past a minute. */
  readonly overlapping: Array<Promise<void>> = []
  /** When a call with a token was first answered 601/602, by token ordinal (sandbox time). */
  readonly discoveredAt = new Map<number, number>()
  /** Calls of the running tick, and the call at which to kill it (or the ms after which). */
  tickCalls = 0
  killAt: number | undefined
  killAfterMillis: number | undefined
  sandbox!: SandboxServer
  private killed: Promise<void> | undefined
  private host!: WorkerHost
  private clockOffset = 0
  private sending = Promise.resolve()
  private readonly persistDir = mkdtempSync(join(tmpdir(), "marketo-soak-"))
  private readonly bundle: string

  private constructor(
    private readonly seed: number,
    private readonly random: Random,
    private readonly say: (line: string) => void,
    private readonly runtime: SoakRuntime
  ) {
    this.bundle = runtime === "cloudflare" ? bundleWorker() : ""
  }

  static async start(seed: number, random: Random, say: (line: string) => void, runtime: SoakRuntime = "cloudflare", imports: ImportProfile = "realistic"): Promise<SoakRig> {
    const rig = new SoakRig(seed, random, say, runtime)
    rig.sandbox = await startSandboxServer({
      seed,
      config: importTimings(imports),
      onExchange: (request, response) => rig.onExchange(request, response)
    })
    await rig.startWorker()
    return rig
  }

  private onExchange(request: SandboxRequest, response: SandboxResponse) {
    if (response.status === 200 && /"code":"60[12]"/.test(response.body)) {
      const ordinal = tokenOrdinal(request.headers["authorization"])
      if (ordinal !== undefined && !this.discoveredAt.has(ordinal)) this.discoveredAt.set(ordinal, this.sandbox.sandbox.now(Date.now()))
    }
    if (!request.url.startsWith("/identity/")) this.tickCalls++
    if (this.killAt !== undefined && this.tickCalls >= this.killAt && this.killed === undefined) {
      this.killAt = undefined
      this.killed = this.host.dispose()
    }
  }

  private async startWorker() {
    if (this.runtime === "deno") {
      this.host = await startDenoWorker({
        persistDir: this.persistDir,
        marketoEndpoint: this.sandbox.url,
        ingestToken,
        adminToken,
        callsPer20s,
        clockOffsetMillis: this.clockOffset,
        seed: this.seed,
        onLog: (line) => this.onLog(line)
      })
      return
    }
    this.host = await startWorker({
      bundle: this.bundle,
      persistDir: this.persistDir,
      marketoEndpoint: this.sandbox.url,
      ingestToken,
      adminToken,
      callsPer20s,
      clockOffsetMillis: this.clockOffset,
      staleMillis: 150,
      staleRate: 0.05,
      seed: this.seed,
      onLog: (line) => this.onLog(line)
    })
  }

  private onLog(line: string) {
    this.secrets.scan("worker log", line)
    const level = /"logLevel":"(ERROR|FATAL)"/.exec(line)
    if (/"message":"sync".*"outcome":"busy"/.test(line)) this.ticks.busy++
    if (process.env["SOAK_DEBUG"] && /ERROR|"message":"(tick|sync)"/.test(line)) this.say(`    log ${line.slice(0, 400)}`)
    if (level !== null) {
      const message = /"message":"([^"]*)"/.exec(line)?.[1] ?? "?"
      const tag = /"cause":"(\w+)/.exec(line)?.[1] ?? ""
      const key = `${message}${tag === "" ? "" : `: ${tag}`}`
      this.workerErrors[key] = (this.workerErrors[key] ?? 0) + 1
    }
  }

  /** The worker's time (and the sandbox's). */
  now() {
    return Date.now() + this.clockOffset
  }

  /** Time passes for both the worker and Marketo (the worker restarts on the same state). */
  async jump(millis: number) {
    await this.host.dispose()
    this.clockOffset += millis
    this.sandbox.sandbox.clockOffsetMillis = this.clockOffset
    this.jumps.count++
    this.jumps.millis += millis
    await this.startWorker()
  }

  async admin(path: string, init: RequestInit = {}) {
    const response = await this.host.fetch(path, { ...init, headers: { authorization: `Bearer ${adminToken}`, ...init.headers } })
    const text = await response.text()
    this.secrets.scan(`${init.method ?? "GET"} ${path}`, text)
    return new Response(text, { status: response.status, headers: response.headers })
  }

  /**
   * Ingest with Segment's credentials (the write key as Basic user name); a refused or lost request
   * is sent again, as Segment does (duplicates change nothing).
   */
  send(batch: ReadonlyArray<unknown>) {
    this.sending = this.sending.then(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const response = await this.host.fetch("/v1/batch", {
            method: "POST",
            body: JSON.stringify({ batch }),
            headers: { "content-type": "application/json", authorization: `Basic ${btoa(`${ingestToken}:`)}` }
          })
          const text = await response.text()
          this.secrets.scan("POST /v1/batch", text)
          const answer = JSON.parse(text) as { accepted?: number; rejected?: Array<unknown> }
          if (response.status === 200 && answer.rejected?.length === 0) {
            this.events.sent += batch.length
            this.events.batches++
            return
          }
          if (response.status === 200) throw new Error(`events rejected: ${JSON.stringify(answer.rejected)}`)
        } catch (error) {
          if (error instanceof Error && error.message.startsWith("events rejected")) throw error
        }
        this.events.retried++
        await (this.killed ?? sleep(50))
        await sleep(50)
      }
    })
    return this.sending
  }

  /** Every batch sent so far has been answered 200. */
  sent() {
    return this.sending
  }

  /**
   * Events keep arriving in random batches while a tick runs: until it ends (`untilDone`), or, in
   * a run bounded by its work (`byWork`), a number of batches drawn from the seed (0 to 3), however
   * long the tick takes, so that the draws that follow do not depend on the machine's speed.
   */
  async flowEvents(traffic: Traffic, untilDone: Promise<unknown>, byWork: boolean) {
    if (byWork) {
      for (let b = between(this.random, 0, 3); b > 0 && traffic.pendingEvents > 0; b--) {
        await this.send(traffic.nextBatch(between(this.random, 1, 40)))
        await sleep(between(this.random, 0, 200))
      }
      return
    }
    let done = false
    void untilDone.finally(() => (done = true))
    while (!done && traffic.pendingEvents > 0) {
      await this.send(traffic.nextBatch(between(this.random, 1, 40)))
      await sleep(between(this.random, 0, 200))
    }
  }

  /**
   * The instance was thrown away: it was down long enough for its lease (60 s) and its permits
   * (120 s) to lapse, and a new one starts on the same state.
   */
  async restartAfterKill() {
    await this.killed
    this.killed = undefined
    this.ticks.killed++
    this.clockOffset += 125_000
    this.sandbox.sandbox.clockOffsetMillis = this.clockOffset
    this.jumps.count++
    this.jumps.millis += 125_000
    await this.startWorker()
  }

  /** Whether a kill has ended the instance and it has not been restarted yet. */
  get wasKilled() {
    return this.killed !== undefined
  }

  /** One tick, by the cron trigger or POST /admin/sync; a tick killed by the soak ends the instance. */
  async tick(): Promise<TickOutcome> {
    this.tickCalls = 0
    this.ticks.run++
    let timer: ReturnType<typeof setTimeout> | undefined
    if (this.killAfterMillis !== undefined) {
      const after = this.killAfterMillis
      this.killAfterMillis = undefined
      timer = setTimeout(() => {
        if (this.killAt !== undefined && this.killed === undefined) {
          this.killAt = undefined
          this.killed = this.host.dispose()
        }
      }, after)
    }
    let outcome: "ok" | "failed"
    try {
      if (this.random() < 0.5) {
        outcome = (await this.host.scheduled()) === "ok" ? "ok" : "failed"
      } else {
        const response = await this.admin("/admin/sync", { method: "POST" })
        const text = await response.text()
        if (process.env["SOAK_DEBUG"]) this.say(`    sync ${response.status} ${text.replace(/\s+/g, " ").slice(0, 600)}`)
        outcome = response.status === 200 ? "ok" : "failed"
      }
    } catch {
      outcome = "failed"
    }
    clearTimeout(timer)
    // The kill may land as the tick's answer is already on its way: the instance is gone either way.
    if (this.killed === undefined) return outcome
    await this.restartAfterKill()
    return "killed"
  }

  /**
   * A tick while events keep arriving. Cron fires every minute whatever the last tick is doing:
   * a tick still running after 60 s (it waits out a rate pause) meets the next one.
   */
  async tickWhileEventsFlow(traffic: Traffic, byWork: boolean): Promise<TickOutcome> {
    const running = this.tick()
    const cron = setTimeout(() => {
      this.overlapping.push(this.host.scheduled().then(
        () => undefined,
        () => undefined
      ))
      this.ticks.overlapping++
    }, 61_000)
    void running.finally(() => clearTimeout(cron))
    await Promise.all([running, this.flowEvents(traffic, running, byWork)])
    return running
  }

  /** Waits out a pause the worker announces (a 606/615 back-off or the daily quota) by moving time. */
  async skipPause() {
    try {
      const status = (await (await this.admin("/admin/status")).json()) as { budget?: { pausedUntil?: number } }
      const until = status.budget?.pausedUntil ?? 0
      const now = this.now()
      // Past the pause and one quiet window more, which forgives earlier 606/615s.
      if (until > now) await this.jump(until - now + 21_000)
    } catch { /* the next tick tells */ }
  }

  async close() {
    await this.host.dispose()
    await this.sandbox.close()
    rmSync(this.persistDir, { recursive: true, force: true })
  }
}
