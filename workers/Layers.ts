// The layers of one invocation, built from `env` each time (nothing cached at module scope):
// the KV state store and the instance's Durable Object behind the core's ports, and the Marketo
// client over fetch.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Logger } from "effect"
import { TokenStore } from "../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../adapters/marketo/MarketoConfig.js"
import * as DurableRateLimiter from "../adapters/cloudflare/DurableRateLimiter.js"
import * as DurableTokenStore from "../adapters/cloudflare/DurableTokenStore.js"
import * as KvStateStore from "../adapters/cloudflare/KvStateStore.js"
import { instanceStub } from "../adapters/cloudflare/MarketoInstanceApi.js"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { StateStore } from "../core/ports/StateStore.js"
import type { MarketoSettings, WorkerEnv } from "./Settings.js"
import { type IgnoredCounts, withTombstones } from "./TombstoneFold.js"

/** The Durable Object of the Marketo instance: budget, token, lease and the state's pointers. */
export const instanceFor = (env: WorkerEnv, endpoint: string) => instanceStub(env.MARKETO_INSTANCE, endpoint)

export const stateLayer = (env: WorkerEnv, endpoint: string) =>
  Layer.succeed(StateStore, KvStateStore.make(env.STATE, instanceFor(env, endpoint)))

/**
 * The state store of a tick: events older than their audience's removal are dropped from the inbox
 * entries as the fold reads them (workers/TombstoneFold.ts), with the tombstones read once per tick.
 */
export const foldStateLayer = (env: WorkerEnv, endpoint: string) =>
  Layer.effect(
    StateStore,
    Effect.gen(function*() {
      const instance = instanceFor(env, endpoint)
      const tombstones = yield* rpcCall("tombstones", () => instance.tombstones())
      const countIgnored = (counts: IgnoredCounts) =>
        rpcCall("countIgnored", () => instance.countIgnored(counts)).pipe(
          // Only a figure shown to the admin: a lost count must not fail the tick.
          Effect.catchAll((e) => Effect.logWarning("ignored events not counted").pipe(Effect.annotateLogs({ method: e.method })))
        )
      return withTombstones(KvStateStore.make(env.STATE, instance), new Map(tombstones.map((t) => [t.key, t.removedAt])), countIgnored)
    })
  )

export const marketoLayer = (env: WorkerEnv, settings: MarketoSettings) => {
  const instance = instanceFor(env, settings.endpoint)
  return MarketoClient.layer.pipe(
    Layer.provide(Layer.mergeAll(
      FetchHttpClient.layer,
      DurableRateLimiter.layer(instance),
      Layer.succeed(TokenStore, DurableTokenStore.make(instance)),
      MarketoConfig.layer({
        baseUrl: settings.endpoint,
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        ...(settings.leadFields.partition === undefined ? {} : { partitionName: settings.leadFields.partition })
      })
    ))
  )
}

/** One JSON line per log entry, for `wrangler tail`. */
export const logging = Logger.json

export const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Effect.provide(logging)))

