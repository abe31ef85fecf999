// The core tick over the in-memory Marketo and store: events in, ticks run, lists read back.
// `untilQuiet` runs ticks a minute apart (TestClock), as the cron does, until one does nothing
// with no import in flight. Unless told otherwise, the instance is known to finish an import
// within a minute, so the planner weighs calls alone, as before it knew time.
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"
import { Effect, Either, Exit, Schema, TestClock } from "effect"
import { ImportLatencyJson } from "../../../core/3-plan/ImportLatency.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { listRecords } from "../../../core/5-tick/AudienceScan.js"
import { decodeEvents } from "../../../core/1-events/EventDecoder.js"
import { appendInbox } from "../../../core/2-ledger/Inbox.js"
import { MarketoApi } from "../../../core/ports/MarketoApi.js"
import { makeMarketoMemory, type MarketoMemoryOptions } from "../../../core/ports/MarketoApiMemory.js"
import { StateStore, type StateStoreService } from "../../../core/ports/StateStore.js"
import type { SyncSettings } from "../../../core/5-tick/SyncSettings.js"
import { runTick, type TickSummary } from "../../../core/5-tick/Tick.js"

export const settings: SyncSettings = { folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: Number.MAX_SAFE_INTEGER }

let clock = 0
export const event = (audience: string, user: string, emails: ReadonlyArray<string>, member: boolean, extra: Record<string, unknown> = {}) => ({
  type: "identify",
  userId: user,
  messageId: `m${++clock}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + clock * 1000).toISOString(),
  traits: { email: [...emails], [audience]: member },
  context: { personas: { computation_key: audience, computation_class: "audience", ...extra } },
  ...(emails.length === 0 ? { traits: { [audience]: member } } : {})
})

/** When the harness's events arrive: after every event time they carry (TestClock starts at 0). */
const arrival = Date.UTC(2027, 0, 1)

export type Api = typeof MarketoApi.Service

/** The port, recording the name of each call made through it (a call that fails is still named). */
export const namingCalls = (names: Array<string>) => (api: Api): Api =>
  Object.fromEntries(Object.entries(api).map(([name, f]) => [name, (...args: Array<unknown>) => {
    names.push(name)
    return (f as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args)
  }])) as unknown as Api

/** A store where every read or write of ledger shards takes a second of test time (the rest is instant). */
export const slowShardStore = (s: StateStoreService): StateStoreService => {
  const slow = <A, E>(keys: ReadonlyArray<string>, effect: Effect.Effect<A, E>) =>
    keys.some((k) => k.includes("/shard/")) ? Effect.zipRight(Effect.sleep("1 second"), effect) : effect
  return {
    ...s,
    get: (key) => slow([key], s.get(key)),
    getMany: (keys) => slow(keys, s.getMany(keys)),
    set: (key, value) => slow([key], s.set(key, value)),
    setMany: (entries) => slow(entries.map(([k]) => k), s.setMany(entries))
  }
}

export interface HarnessTime {
  /** What the instance's imports are known to take (none: the prior of 10 minutes). Default 60 s. */
  readonly importLatencyMillis?: number | null
}

export const harness = (
  options?: MarketoMemoryOptions,
  wrapStore?: (s: StateStoreService) => StateStoreService,
  wrapApi?: (api: Api) => Api,
  time: HarnessTime = {}
) =>
  Effect.gen(function*() {
    const memory = yield* makeMarketoMemory(options)
    const control = memory.control
    const api = wrapApi === undefined ? memory.api : wrapApi(memory.api)
    const inner = yield* makeStateStoreMemory()
    const latency = time.importLatencyMillis === undefined ? 60_000 : time.importLatencyMillis
    if (latency !== null) {
      yield* inner.set(StateKeys.importLatency, Schema.encodeSync(ImportLatencyJson)({ classes: { "10": { low: Math.max(0, latency - 30_000), high: latency, at: 0 } } }))
    }
    const store = wrapStore === undefined ? inner : wrapStore(inner)
    const provide = <A, E>(effect: Effect.Effect<A, E, MarketoApi | StateStore>) =>
      effect.pipe(Effect.provideService(MarketoApi, api), Effect.provideService(StateStore, store))
    const send = (events: ReadonlyArray<unknown>) => provide(appendInbox(Either.getOrThrow(decodeEvents(events, arrival))))
    const tick = (s: SyncSettings = settings) => provide(runTick(s))
    const inFlight = Effect.map(provide(listRecords()), (records) => records.some((r) => r.pendingImports.length > 0 || (r.imports?.length ?? 0) > 0 || r.staged !== undefined || r.stagedLeft !== undefined))
    const untilQuiet = Effect.gen(function*() {
      const summaries: Array<TickSummary> = []
      for (let i = 0; i < 30; i++) {
        if (i > 0) yield* TestClock.adjust("1 minute")
        const exit = yield* Effect.exit(tick())
        if (Exit.isSuccess(exit)) {
          summaries.push(exit.value)
          const idle = exit.value.inboxFolded === 0 && exit.value.audiences.every((a) => a.stepsDone === 0 && a.error === undefined)
          if (idle && !(yield* Effect.orDie(inFlight))) return summaries
        }
      }
      throw new Error("the sync did not become quiet in 30 ticks")
    })
    return { control, inner, send, tick, untilQuiet, provide }
  })
