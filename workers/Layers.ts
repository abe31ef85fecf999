// The layers of one request or tick, built from the runtime's Platform (workers/Platform.ts) each
// time: the instance's state store and ports behind the core's ports, and the Marketo client over
// fetch. Nothing here names a runtime.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Logger } from "effect"
import { TokenStore } from "../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../adapters/marketo/MarketoConfig.js"
import { rpcCall } from "../adapters/cloudflare/RpcCall.js"
import { StateStore } from "../core/ports/StateStore.js"
import type { PlatformService } from "./Platform.js"
import type { MarketoSettings } from "./Settings.js"
import { type IgnoredCounts, withTombstones } from "./TombstoneFold.js"

/** The instance's strongly consistent records: admission, tombstones, tick records, budget. */
export const instanceFor = (platform: PlatformService, endpoint: string) => platform.instance(endpoint)

export const stateLayer = (platform: PlatformService, endpoint: string) => Layer.succeed(StateStore, platform.stateStore(endpoint))

/**
 * The state store of a tick: events older than their audience's removal are dropped from the inbox
 * entries as the fold reads them (workers/TombstoneFold.ts), with the tombstones read once per tick.
 */
export const foldStateLayer = (platform: PlatformService, endpoint: string) =>
  Layer.effect(
    StateStore,
    Effect.gen(function*() {
      const instance = instanceFor(platform, endpoint)
      const tombstones = yield* rpcCall("tombstones", () => instance.tombstones())
      const countIgnored = (counts: IgnoredCounts) =>
        rpcCall("countIgnored", () => instance.countIgnored(counts)).pipe(
          // Only a figure shown to the admin: a lost count must not fail the tick.
          Effect.catchAll((e) => Effect.logWarning("ignored events not counted").pipe(Effect.annotateLogs({ method: e.method })))
        )
      return withTombstones(platform.stateStore(endpoint), new Map(tombstones.map((t) => [t.key, t.removedAt])), countIgnored)
    })
  )

export const marketoLayer = (platform: PlatformService, settings: MarketoSettings) =>
  MarketoClient.layer.pipe(
    Layer.provide(Layer.mergeAll(
      FetchHttpClient.layer,
      platform.rateLimiter(settings.endpoint),
      Layer.succeed(TokenStore, platform.tokenStore(settings.endpoint)),
      MarketoConfig.layer({
        baseUrl: settings.endpoint,
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        ...(settings.leadFields.partition === undefined ? {} : { partitionName: settings.leadFields.partition })
      })
    ))
  )

/** One JSON line per log entry, for `wrangler tail` or the Deno process's output. */
export const logging = Logger.json

export const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect.pipe(Effect.provide(logging)))
