// The V8 heap of a worker's isolate in workerd, through workerd's inspector (DevTools protocol):
// its usage on demand, and its peaks sampled every 20 ms while some work runs.
import { writeFileSync } from "node:fs"
import { fetch as miniflareFetch } from "miniflare"
import { sleep } from "./TickAudience.js"

/**
 * The worker's isolate seen through workerd's inspector (DevTools protocol): Runtime.getHeapUsage
 * answers between the isolate's turns, so sampling it every few milliseconds during a tick gives
 * the heap's peak (the Durable Object runs in the same isolate, so its heap is included).
 */
export const inspectIsolate = async (inspectorPort: number, workerName: string) => {
  const targets = (await (await miniflareFetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Array<{ webSocketDebuggerUrl: string }>
  const target = targets.find((t) => t.webSocketDebuggerUrl.endsWith(`/${workerName}`))
  if (target === undefined) throw new Error(`no inspector target for ${workerName}`)
  const response = await miniflareFetch(target.webSocketDebuggerUrl.replace("ws://", "http://"), { headers: { upgrade: "websocket" } })
  const ws = response.webSocket
  if (ws === null) throw new Error("the inspector refused the WebSocket")
  ws.accept()
  let id = 0
  const pending = new Map<number, (result: unknown) => void>()
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } }
    if (message.id === undefined) return
    // Every answer settles its request (an error answer too, or a sampler would wait for ever).
    if (message.error !== undefined) process.stderr.write(`inspector: ${message.error.message}\n`)
    pending.get(message.id)?.(message.result)
    pending.delete(message.id)
  })
  const command = <A>(method: string, params: object = {}) =>
    new Promise<A | undefined>((resolve) => {
      pending.set(++id, (result) => resolve(result as A | undefined))
      ws.send(JSON.stringify({ id, method, params }))
    })
  const heap = async () => (await command<{ usedSize: number; totalSize: number }>("Runtime.getHeapUsage")) ?? { usedSize: 0, totalSize: 0 }
  /**
   * Samples the heap while `work` runs: peaks of used and committed (total) heap, in bytes. Locally
   * V8 is not held to 128 MB and collects lazily, so the used peak includes garbage: it is an upper
   * bound of what the tick holds. (Forcing collections through the inspector while a tick runs
   * stalled the isolate, so the live set is not sampled.)
   */
  const during = async <A>(work: () => Promise<A>) => {
    const before = await heap()
    let peakUsed = before.usedSize
    let peakTotal = before.totalSize
    let samples = 0
    let running = true
    const sampler = (async () => {
      while (running) {
        const h = await heap()
        samples++
        peakUsed = Math.max(peakUsed, h.usedSize)
        peakTotal = Math.max(peakTotal, h.totalSize)
        await sleep(20)
      }
    })()
    const result = await work()
    running = false
    await sampler
    const after = await heap()
    return { result, before, after, peakUsed: Math.max(peakUsed, after.usedSize), peakTotal: Math.max(peakTotal, after.totalSize), samples }
  }
  /**
   * The isolate's JavaScript time while `work` runs, from V8's sampling profiler (a sample every
   * millisecond): the samples in a JavaScript function (the builtins it calls, JSON.parse among
   * them, included) or in garbage collection. Left out: "(idle)" and "(program)", where V8 puts
   * the time the isolate waits for I/O as well as native work it cannot attribute (workerd does
   * not mark every wait idle, so "(program)" is mostly waiting), and everything outside the
   * isolate: Miniflare's local KV and Durable Object storage and the HTTP stack, which the workerd
   * process's CPU includes. The Durable Object's own JavaScript runs in this isolate and counts.
   *
   * A sample carries the time since the one before. On a loaded machine some carry far more than
   * the interval (the isolate's thread or the sampler was not running: 15 samples of one tick held
   * 0.9 s, one of them 392 ms while the tick waited for the rate window), so `jsMs` rises with the
   * load. `jsSampledMs` counts each sample for at most two intervals (the median gap between
   * samples): what the isolate ran, whatever else the machine ran meanwhile.
   */
  let profiles = 0
  const cpuDuring = async <A>(work: () => Promise<A>) => {
    await command("Profiler.enable")
    await command("Profiler.setSamplingInterval", { interval: 1000 })
    await command("Profiler.start")
    const result = await work()
    const stopped = await command<{ profile: CpuProfile }>("Profiler.stop")
    await command("Profiler.disable")
    const profile = stopped?.profile
    if (profile === undefined) return { result, jsMs: Number.NaN, jsSampledMs: Number.NaN, gcMs: Number.NaN, programMs: Number.NaN }
    // BENCH_CPU_PROFILE=<prefix>: each measured tick's profile kept as <prefix>-<n>.cpuprofile (DevTools opens it).
    const keep = process.env["BENCH_CPU_PROFILE"]
    if (keep !== undefined) writeFileSync(`${keep}-${++profiles}.cpuprofile`, JSON.stringify(profile))
    const names = new Map(profile.nodes.map((n) => [n.id, n.callFrame.functionName]))
    const gaps = profile.timeDeltas.slice(1).sort((a, b) => a - b)
    const longest = 2 * (gaps[Math.floor(gaps.length / 2)] ?? 1000)
    let js = 0
    let jsSampled = 0
    let gc = 0
    let program = 0
    for (const [i, node] of profile.samples.entries()) {
      const micros = profile.timeDeltas[i + 1] ?? 0
      const name = names.get(node)
      if (name === "(idle)" || name === "(root)") continue
      if (name === "(program)") program += micros
      else {
        js += micros
        jsSampled += Math.min(micros, longest)
        if (name === "(garbage collector)") gc += micros
      }
    }
    return { result, jsMs: js / 1000, jsSampledMs: jsSampled / 1000, gcMs: gc / 1000, programMs: program / 1000 }
  }
  return { heap, during, cpuDuring, close: () => ws.close() }
}

interface CpuProfile {
  readonly nodes: ReadonlyArray<{ readonly id: number; readonly callFrame: { readonly functionName: string } }>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}
