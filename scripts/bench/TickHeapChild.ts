// The measured process of `npm run bench:tick-heap`, bundled and started by it with a capped V8
// heap. It holds what a Worker invocation holds: the product's sync tick (workers/SyncTick.ts:
// the same settings, the same core, the same Marketo client over fetch), with the state in files
// (as it is in KV, outside the isolate) and the budget and token in memory (as they are in the
// Durable Object). The parent drives it over IPC:
//   { id, op: "ingest", events }   decode a /v1/batch body and append it to the inbox
//   { id, op: "tick" }             one tick; answers its summary
//   { id, op: "measuredTick" }     one tick, answering its summary with CPU time and heap figures
//   { id, op: "startReconcile" }   start a reconcile of the audience's list, as its admin route does
//   { id, op: "reconcileState" }   whether the run goes on, and the audience's last reconcile report
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { layerRateLimiterMemory } from "../../core/ports/RateLimiterMemory.js"
import { Effect, Either, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted } from "effect"
import { getHeapStatistics } from "node:v8"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import { decodeEventsText } from "../../core/1-events/EventDecoder.js"
import type { AudienceKey } from "../../core/1-events/Ids.js"
import { readRecord } from "../../core/2-ledger/AudienceShards.js"
import { appendInbox } from "../../core/2-ledger/Inbox.js"
import { readRun, startReconcile } from "../../core/5-tick/Reconcile.js"
import { defaults } from "../../workers/Defaults.js"
import { syncTick } from "../../workers/SyncTick.js"
import * as FileStateStore from "./FileStateStore.js"

const endpoint = process.env["BENCH_ENDPOINT"]
const stateDirectory = process.env["BENCH_STATE_DIR"]
if (endpoint === undefined || stateDirectory === undefined || process.send === undefined) {
  throw new Error("started by scripts/bench-tick-heap.ts only (BENCH_ENDPOINT, BENCH_STATE_DIR, IPC)")
}

const settings = { ...defaults, endpoint }
const base = Layer.mergeAll(
  FileStateStore.layer(stateDirectory),
  layerRateLimiterMemory({
    callsPerWindow: settings.callsPer20s,
    maxConcurrency: settings.maxConcurrency,
    dailyQuota: settings.dailyQuota,
    dailyReserve: settings.dailyReserve
  }),
  TokenStore.layerMemory,
  FetchHttpClient.layer,
  MarketoConfig.layer({ baseUrl: endpoint, clientId: "local-client-id", clientSecret: Redacted.make("local-client-secret") }),
  Logger.minimumLogLevel(LogLevel.Warning)
)
const runtime = ManagedRuntime.make(MarketoClient.layer.pipe(Layer.provideMerge(base)))

const tick = () => runtime.runPromise(syncTick(settings))

/** Samples the heap every 10 ms while `work` runs (between its turns, as an inspector would). */
const measured = async <A>(work: () => Promise<A>) => {
  const before = getHeapStatistics()
  let peakUsed = before.used_heap_size
  let peakTotal = before.total_heap_size
  let peakExternal = before.external_memory
  let samples = 0
  const sample = () => {
    const h = getHeapStatistics()
    peakUsed = Math.max(peakUsed, h.used_heap_size)
    peakTotal = Math.max(peakTotal, h.total_heap_size)
    peakExternal = Math.max(peakExternal, h.external_memory)
    samples++
  }
  const timer = setInterval(sample, 10)
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const result = await work()
  const wallMs = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  clearInterval(timer)
  sample()
  return {
    result,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    heapUsedBefore: before.used_heap_size,
    peakUsed,
    peakTotal,
    peakExternal,
    heapLimit: getHeapStatistics().heap_size_limit,
    samples
  }
}

type Request =
  | { readonly id: number; readonly op: "ingest"; readonly events: ReadonlyArray<unknown> }
  | { readonly id: number; readonly op: "tick" | "measuredTick" | "startReconcile" | "reconcileState"; readonly audience?: string }

const audienceOf = (request: Request) => {
  if (!("audience" in request) || request.audience === undefined) throw new Error(`${request.op} needs an audience`)
  return request.audience as AudienceKey
}

const answer = async (request: Request): Promise<unknown> => {
  switch (request.op) {
    case "ingest": {
      const decoded = decodeEventsText(JSON.stringify({ batch: request.events }), Date.now())
      if (Either.isLeft(decoded)) throw new Error(`the batch was refused: ${decoded.left.reason}`)
      if (decoded.right.rejected.length > 0) throw new Error(`${decoded.right.rejected.length} events were refused`)
      return runtime.runPromise(appendInbox(decoded.right))
    }
    case "tick":
      return tick()
    case "measuredTick":
      return measured(tick)
    case "startReconcile":
      return runtime.runPromise(Effect.map(startReconcile(audienceOf(request)), Option.isSome))
    case "reconcileState": {
      const key = audienceOf(request)
      return runtime.runPromise(Effect.map(Effect.all([readRun(key), readRecord(key)]), ([run, record]) => ({
        running: Option.isSome(run),
        lastReconcile: Option.getOrUndefined(record)?.lastReconcile
      })))
    }
  }
}

process.on("message", (request: Request) => {
  answer(request).then(
    (result) => process.send!({ id: request.id, result }),
    (error: unknown) => process.send!({ id: request.id, error: error instanceof Error ? error.stack ?? error.message : String(error) })
  )
})
process.on("disconnect", () => void runtime.dispose().then(() => process.exit(0)))
