// The core tick over the in-memory Marketo and store: events in, ticks run, lists read back.
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"
import { Effect, Either, Exit } from "effect"
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

export const harness = (
  options?: MarketoMemoryOptions,
  wrapStore?: (s: StateStoreService) => StateStoreService,
  wrapApi?: (api: Api) => Api
) =>
  Effect.gen(function*() {
    const memory = yield* makeMarketoMemory(options)
    const control = memory.control
    const api = wrapApi === undefined ? memory.api : wrapApi(memory.api)
    const inner = yield* makeStateStoreMemory()
    const store = wrapStore === undefined ? inner : wrapStore(inner)
    const provide = <A, E>(effect: Effect.Effect<A, E, MarketoApi | StateStore>) =>
      effect.pipe(Effect.provideService(MarketoApi, api), Effect.provideService(StateStore, store))
    const send = (events: ReadonlyArray<unknown>) => provide(appendInbox(Either.getOrThrow(decodeEvents(events, arrival))))
    const tick = (s: SyncSettings = settings) => provide(runTick(s))
    const untilQuiet = Effect.gen(function*() {
      const summaries: Array<TickSummary> = []
      for (let i = 0; i < 30; i++) {
        const exit = yield* Effect.exit(tick())
        if (Exit.isSuccess(exit)) {
          summaries.push(exit.value)
          if (exit.value.inboxFolded === 0 && exit.value.audiences.every((a) => a.stepsDone === 0 && a.error === undefined)) return summaries
        }
      }
      throw new Error("the sync did not become quiet in 30 ticks")
    })
    return { control, inner, send, tick, untilQuiet, provide }
  })
