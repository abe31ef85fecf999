// The product's tick (the core, the real Marketo client, the in-memory store) against the sandbox
// in process, on the TestClock: ticks a minute apart, as the cron runs them, so imports run their
// course in the sandbox while the sync polls them. For tests of what Marketo does that is not kind:
// merged leads, refused rows, lists deleted or renamed by hand, answers lost.
import { Effect, Either, Layer, Redacted, Schema, TestClock } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import { decodeEvents } from "../../core/1-events/EventDecoder.js"
import type { AudienceKey } from "../../core/1-events/Ids.js"
import { appendInbox } from "../../core/2-ledger/Inbox.js"
import { StateKeys } from "../../core/2-ledger/StateKeys.js"
import { ImportLatencyJson } from "../../core/3-plan/ImportLatency.js"
import { listRecords } from "../../core/5-tick/AudienceScan.js"
import { getAudience } from "../../core/5-tick/AudienceStatus.js"
import { runTick } from "../../core/5-tick/Tick.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { layerRateLimiterMemory } from "../../core/ports/RateLimiterMemory.js"
import { StateStore } from "../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../core/ports/StateStoreMemory.js"
import { cpuCharge, drive } from "../../scripts/bench/SimWorld.js"
import type { SandboxConfig } from "../sandbox/SandboxConfig.js"
import { layerSandboxHttpClient } from "../sandbox/SandboxHttpClient.js"
import { SandboxModel } from "../sandbox/SandboxModel.js"

const start = Date.UTC(2026, 10, 20, 12)
let clock = 0

export const identify = (audience: string, user: string, email: string, member: boolean) => ({
  type: "identify",
  userId: user,
  messageId: `s${++clock}`,
  timestamp: new Date(start - 3_600_000 + clock).toISOString(),
  traits: { email, [audience]: member },
  context: { personas: { computation_key: audience, computation_class: "audience" } }
})

export interface SandboxSyncOptions {
  /** What the instance's imports are known to take (seeded as learned); none: the prior. */
  readonly importLatencyMillis?: number
  /** Pace by a quota view as the worker does (45,000 calls left, the day ending in 6 hours); none: no pacing. */
  readonly quota?: boolean
}

export const sandboxSync = (config: Partial<SandboxConfig> = {}, options: SandboxSyncOptions = {}, seed = 1) =>
  Effect.gen(function*() {
    // Tests keep simulated time exact: the bench's charge of real CPU to it stays off here.
    cpuCharge.enabled = false
    yield* TestClock.setTime(start)
    const sandbox = new SandboxModel(config, seed)
    const store = yield* makeStateStoreMemory()
    if (options.importLatencyMillis !== undefined) {
      const high = options.importLatencyMillis
      yield* store.set(StateKeys.importLatency, Schema.encodeSync(ImportLatencyJson)({ classes: { "10": { low: high - 30_000, high, at: 0 } } }))
    }
    const api = yield* Layer.build(MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
      layerSandboxHttpClient(sandbox),
      layerRateLimiterMemory({ callsPerWindow: 50, maxConcurrency: 5 }),
      TokenStore.layerMemory,
      MarketoConfig.layer({ baseUrl: "http://sandbox.local", clientId: "local-client-id", clientSecret: Redacted.make("local-client-secret"), retryBaseMillis: 50 })
    ))))
    const provide = <A, E>(effect: Effect.Effect<A, E, MarketoApi | StateStore>) =>
      effect.pipe(Effect.provide(api), Effect.provideService(StateStore, store))
    const send = (events: ReadonlyArray<unknown>) =>
      provide(Effect.flatMap(TestClock.currentTimeMillis, (now) => appendInbox(Either.getOrThrow(decodeEvents(events, now)))))
    const tick = () =>
      Effect.flatMap(TestClock.currentTimeMillis, (now) =>
        drive(provide(runTick({
          folderName: "Engage Audiences",
          budget: { callsPerWindow: 50, windowMillis: 20_000 },
          deadline: now + 25_000,
          ...(options.quota === true ? { quota: { callsLeftToday: 45_000, resetsAt: start + 6 * 3_600_000 } } : {})
        }))))
    /** Ticks a minute apart until one does nothing and no import is in flight (at most `max`). */
    const untilQuiet = (max = 60) =>
      Effect.gen(function*() {
        for (let i = 0; i < max; i++) {
          const summary = yield* tick()
          const records = yield* provide(listRecords())
          const idle = summary.inboxFolded === 0 && summary.audiences.every((a) => a.stepsDone === 0 && a.error === undefined)
          if (idle && records.every((r) => r.pendingImports.length === 0 && (r.imports?.length ?? 0) === 0)) return i + 1
          yield* TestClock.adjust("1 minute")
        }
        throw new Error(`the sync did not become quiet in ${max} ticks`)
      })
    const view = (key: string) => provide(getAudience(key as AudienceKey))
    return { sandbox, send, tick, untilQuiet, view, provide }
  })
