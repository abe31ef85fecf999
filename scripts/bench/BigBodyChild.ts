// One 4 MiB ingest body of one audience, 100 emails per event, through the whole path a Worker
// takes — decode, store, fold, plan, apply, tick after tick until the list is whole — inside a
// Node process whose heap is capped like an isolate's. The state is held in this same heap (a Worker's lives in KV), so the figure is an
// upper bound. Prints one JSON line: events, changes folded, ticks, emails on the list, heap peak, CPU.
import { Clock, Duration, Effect, Either } from "effect"
import { decodeEventsText } from "../../core/1-events/EventDecoder.js"
import { appendInbox } from "../../core/2-ledger/Inbox.js"
import { runTick } from "../../core/5-tick/Tick.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { makeMarketoMemory } from "../../core/ports/MarketoApiMemory.js"
import { StateStore } from "../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../core/ports/StateStoreMemory.js"

const limit = 4 * 1024 * 1024
const now = Date.now()
const event = (i: number) =>
  JSON.stringify({
    type: "identify",
    userId: `big-${i}`,
    messageId: `big-${i}`,
    timestamp: new Date(now - 60_000).toISOString(),
    traits: { email: Array.from({ length: 100 }, (_, j) => `b${i}.${j}@example.com`), big_audience: true },
    context: { personas: { computation_key: "big_audience" } }
  })
const parts: Array<string> = []
let size = '{"batch":[]}'.length
for (let i = 0; ; i++) {
  const text = event(i)
  if (size + text.length + 1 > limit) break
  parts.push(text)
  size += text.length + 1
}
let body: string | undefined = `{"batch":[${parts.join(",")}]}`
parts.length = 0

// Sampled between stages (the work is synchronous: a timer would never fire during it).
let peak = 0
const sample = Effect.sync(() => void (peak = Math.max(peak, process.memoryUsage().heapUsed)))

// Time is simulated, as a deployment sees it: a tick each minute with a 25 s deadline, a wait for
// the rate window moving the clock instead of the process. So the verdict does not depend on how
// fast this machine is, and each tick makes what one Worker's tick could (50 calls per 20 s).
let simulatedNow = now
const simulatedClock: Clock.Clock = {
  [Clock.ClockTypeId]: Clock.ClockTypeId,
  unsafeCurrentTimeMillis: () => simulatedNow,
  currentTimeMillis: Effect.sync(() => simulatedNow),
  unsafeCurrentTimeNanos: () => BigInt(simulatedNow) * 1_000_000n,
  currentTimeNanos: Effect.sync(() => BigInt(simulatedNow) * 1_000_000n),
  sleep: (duration) => Effect.sync(() => void (simulatedNow += Duration.toMillis(duration)))
}
const tickMillis = 60_000
const maxTicks = 60

const cpu = process.cpuUsage()
const program = (onList: Effect.Effect<number>) => Effect.gen(function*() {
  const decoded = Either.getOrThrow(decodeEventsText(body!, now))
  yield* sample
  body = undefined
  yield* appendInbox(decoded)
  yield* sample
  const events = decoded.accepted
  // A deployment's view of the day: half of a 50,000-call quota left.
  const quota = { callsLeftToday: 25_000, resetsAt: now + 12 * 3_600_000 }
  let folded = 0
  let ticks = 0
  while (ticks < maxTicks && (ticks === 0 || (yield* onList) < events * 100)) {
    const startedAt = simulatedNow
    const settings = { folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: startedAt + 25_000, quota }
    folded += (yield* runTick(settings)).changesFolded
    ticks++
    simulatedNow = Math.max(simulatedNow, startedAt + tickMillis)
    yield* sample
  }
  return { events, folded, ticks }
})
const main = Effect.gen(function*() {
  const store = yield* makeStateStoreMemory()
  const memory = yield* makeMarketoMemory({ pollsUntilComplete: 0 })
  const onList = Effect.map(memory.control.members("big_audience"), (m) => m.length)
  const result = yield* program(onList).pipe(Effect.provideService(StateStore, store), Effect.provideService(MarketoApi, memory.api))
  return { ...result, onList: yield* onList }
}).pipe(Effect.withClock(simulatedClock))
const result = await Effect.runPromise(main)
const used = process.cpuUsage(cpu)
console.log(JSON.stringify({
  bodyBytes: size,
  ...result,
  heapSampledPeakMb: Math.round(peak / 1e5) / 10,
  cpuSeconds: Math.round((used.user + used.system) / 1e5) / 10
}))
