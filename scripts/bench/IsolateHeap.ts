// The V8 heap of a worker's isolate in workerd, through workerd's inspector (DevTools protocol):
// its usage on demand, and its peaks sampled every 20 ms while some work runs.
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
  const pending = new Map<number, (result: { usedSize: number; totalSize: number }) => void>()
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: { usedSize: number; totalSize: number }; error?: { message: string } }
    if (message.id === undefined) return
    // Every answer settles its request (an error answer too, or a sampler would wait for ever).
    if (message.error !== undefined) process.stderr.write(`inspector: ${message.error.message}\n`)
    pending.get(message.id)?.(message.result ?? { usedSize: 0, totalSize: 0 })
    pending.delete(message.id)
  })
  const command = (method: string) =>
    new Promise<{ usedSize: number; totalSize: number }>((resolve) => {
      pending.set(++id, resolve)
      ws.send(JSON.stringify({ id, method }))
    })
  const heap = () => command("Runtime.getHeapUsage")
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
  return { heap, during, close: () => ws.close() }
}
