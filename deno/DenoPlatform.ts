// The Platform (workers/Platform.ts) on Deno: every record of a Marketo instance in one Deno KV
// database under the instance's prefix (its normalised endpoint, as the Durable Object's name is
// on Cloudflare): the state store, rate budget, token and lease of adapters/deno, and the audience
// registry and tick records beside them. The settings are the process environment's.
import { Effect, Either, Layer } from "effect"
import { instanceName } from "../adapters/marketo/Endpoint.js"
import type { DenoKvService } from "../adapters/deno/DenoKv.js"
import * as DenoKvAudienceRegistry from "../adapters/deno/DenoKvAudienceRegistry.js"
import * as DenoKvLeadFieldCheck from "../adapters/deno/DenoKvLeadFieldCheck.js"
import * as DenoKvRateLimiter from "../adapters/deno/DenoKvRateLimiter.js"
import * as DenoKvStateStore from "../adapters/deno/DenoKvStateStore.js"
import * as DenoKvSyncLease from "../adapters/deno/DenoKvSyncLease.js"
import * as DenoKvTickRecords from "../adapters/deno/DenoKvTickRecords.js"
import * as DenoKvTokenStore from "../adapters/deno/DenoKvTokenStore.js"
import { RateLimiter } from "../core/ports/RateLimiter.js"
import type { InstanceRecords, PlatformService } from "../workers/Platform.js"
import { marketoSettings, type SettingsEnv } from "../workers/Settings.js"

const promise = <A>(effect: Effect.Effect<A, unknown>) => Effect.runPromise(effect)

export const denoPlatform = (kv: Deno.Kv, env: SettingsEnv): PlatformService => {
  const service = (endpoint: string): DenoKvService => ({ kv, prefix: [instanceName(endpoint)] })
  // The budget's limits are the settings' (defaults while they are invalid: the tick refuses to
  // run then anyway), as the Durable Object reads them from the worker's variables.
  const budget = Either.match(marketoSettings(env), {
    onLeft: () => ({}),
    onRight: (s) => ({ callsPerWindow: s.callsPer20s, maxConcurrency: s.maxConcurrency, dailyQuota: s.dailyQuota, dailyReserve: s.dailyReserve })
  })
  const limiter = (endpoint: string) => DenoKvRateLimiter.make(service(endpoint), budget)
  return {
    env,
    instance: (endpoint): InstanceRecords => {
      const registry = DenoKvAudienceRegistry.make(service(endpoint))
      const ticks = DenoKvTickRecords.make(service(endpoint))
      const fieldCheck = DenoKvLeadFieldCheck.make(service(endpoint))
      return {
        admitAudiences: (requests, max) => promise(registry.admitAudiences(requests, max)),
        registerAudience: (key) => promise(registry.registerAudience(key)),
        buryAudience: (key, at, onlyIfLive) => promise(registry.buryAudience(key, at, onlyIfLive)),
        countIgnored: (counts) => promise(registry.countIgnored(counts)),
        tombstones: () => promise(registry.tombstones),
        recordTick: (record) => promise(ticks.recordTick(record)),
        tickHistory: () => promise(ticks.tickHistory),
        status: () => promise(Effect.flatMap(limiter(endpoint), (l) => l.status)),
        getLeadFieldCheck: () => promise(fieldCheck.get),
        setLeadFieldCheck: (check) => promise(fieldCheck.set(check))
      }
    },
    stateStore: (endpoint) => DenoKvStateStore.make(service(endpoint)),
    rateLimiter: (endpoint) => Layer.effect(RateLimiter, limiter(endpoint)),
    tokenStore: (endpoint) => DenoKvTokenStore.make(service(endpoint)),
    syncLease: (endpoint) => DenoKvSyncLease.make(service(endpoint))
  }
}
