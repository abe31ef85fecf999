// A simulated Marketo instance for the sync bench: the sandbox model in process, the real Marketo
// client and rate limiter over it, and simulated time. Every call takes the configured latency
// on the Effect clock; `drive` moves the TestClock from one pending sleep to the next, so a day of
// ticks runs in seconds and every wait (latency, rate window, import) is simulated exactly. The
// CPU a strategy's own work takes (measured, the sandbox's share taken out) is charged to simulated
// time too: a tick that computes for 3 s ends 3 s later and meets its deadline sooner.
import { Context, Effect, Fiber, Layer, Option, Redacted, Scope, TestClock } from "effect"
import { layerRateLimiterMemory } from "../../core/ports/RateLimiterMemory.js"
import { makeStateStoreMemory } from "../../core/ports/StateStoreMemory.js"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { RateBudgetConfig } from "../../core/marketo/RateBudget.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import { StateStore } from "../../core/ports/StateStore.js"
import { layerSandboxHttpClient } from "../../test/sandbox/SandboxHttpClient.js"
import { type ImportProfile, importTimings } from "../../test/sandbox/SandboxConfig.js"
import { SandboxModel } from "../../test/sandbox/SandboxModel.js"

export interface CallCounts {
  /** Calls Marketo counts against the window and the quota (identity calls are not counted). */
  counted: number
  /** 606, 615 and 607 answers: calls Marketo refused for rate, concurrency or quota. */
  refused: number
  /** Counted calls per simulated hour since `origin`. */
  perHour: Array<number>
  origin: number
}

export interface World {
  readonly sandbox: SandboxModel
  readonly counts: CallCounts
  readonly services: Context.Context<MarketoApi | StateStore | RateLimiter>
  readonly start: number
}

export interface WorldOptions {
  readonly start: number
  readonly budget: Partial<RateBudgetConfig>
  /** Answer time of every call (Marketo's are typically a few hundred ms). */
  readonly latencyMillis: number
  /** How long the sandbox's imports take (default realistic). */
  readonly imports?: ImportProfile
}

export const makeWorld = (options: WorldOptions): Effect.Effect<World, never, Scope.Scope> =>
  Effect.gen(function*() {
    yield* TestClock.setTime(options.start)
    const sandbox = new SandboxModel({ latencyMillis: options.latencyMillis, ...importTimings(options.imports ?? "realistic") })
    // The sandbox's own CPU is Marketo's, not the strategy's: counted here to be taken out.
    const handle = sandbox.handle.bind(sandbox)
    sandbox.handle = (input, clock) => {
      const before = process.cpuUsage()
      try {
        return handle(input, clock)
      } finally {
        const used = process.cpuUsage(before)
        sandboxCpu.micros += used.user + used.system
      }
    }
    const counts: CallCounts = { counted: 0, refused: 0, perHour: [], origin: options.start }
    sandbox.onCall = (call) => {
      if (call.counted) {
        counts.counted++
        const hour = Math.max(0, Math.floor((call.at - counts.origin) / 3_600_000))
        counts.perHour[hour] = (counts.perHour[hour] ?? 0) + 1
      }
      if (call.outcome === "606" || call.outcome === "615" || call.outcome === "607") counts.refused++
    }
    const layer = Layer.mergeAll(
      MarketoClient.layer.pipe(Layer.provideMerge(Layer.mergeAll(
        layerSandboxHttpClient(sandbox),
        layerRateLimiterMemory(options.budget),
        TokenStore.layerMemory,
        MarketoConfig.layer({ baseUrl: "http://sandbox.local", clientId: "local-client-id", clientSecret: Redacted.make("local-client-secret") })
      ))),
      Layer.effect(StateStore, makeStateStoreMemory())
    )
    const services = yield* Layer.build(layer)
    return { sandbox, counts, services: services as Context.Context<MarketoApi | StateStore | RateLimiter>, start: options.start }
  })

const realTurn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** CPU the sandbox spent answering calls, in µs (taken out of what `drive` charges). */
const sandboxCpu = { micros: 0 }

/** Whether `drive` charges the CPU of the work it runs to simulated time (on unless a bench turns it off). */
export const cpuCharge = { enabled: true, chargedMillis: 0 }

/**
 * Run `effect` to its end under the TestClock, moving time to each pending wake-up in turn (at
 * most one second at a time, so a step still busy with real work is never jumped over). The CPU
 * the work took since the last turn, less the sandbox's, moves the clock first.
 */
export const drive = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.gen(function*() {
    let cpu = process.cpuUsage()
    let sandboxAt = sandboxCpu.micros
    const fiber = yield* Effect.fork(effect)
    for (;;) {
      yield* realTurn
      if (cpuCharge.enabled) {
        const used = process.cpuUsage(cpu)
        const own = Math.max(0, used.user + used.system - (sandboxCpu.micros - sandboxAt)) / 1000
        cpu = process.cpuUsage()
        sandboxAt = sandboxCpu.micros
        if (own >= 1) {
          cpuCharge.chargedMillis += own
          yield* TestClock.adjust(Math.round(own))
        }
      }
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) return yield* exit.value
      const now = yield* TestClock.currentTimeMillis
      const sleeps = [...(yield* TestClock.sleeps())]
      const next = sleeps.length === 0 ? now : Math.min(...sleeps)
      yield* TestClock.adjust(Math.max(0, Math.min(next, now + 1_000) - now))
    }
  })

/** Move simulated time forward with nothing running. */
export const advanceTo = (time: number) =>
  Effect.flatMap(TestClock.currentTimeMillis, (now) => (time > now ? TestClock.adjust(time - now) : Effect.void))
