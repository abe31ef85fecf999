// The Platform (workers/Platform.ts) on Cloudflare: the state in KV with the instance's Durable
// Object holding its pointers, and the budget, token, lease, audience registry and tick records
// in that object (workers/MarketoInstance.ts), one per Marketo instance, named by its endpoint.
import * as DurableRateLimiter from "../adapters/cloudflare/DurableRateLimiter.js"
import * as DurableTokenStore from "../adapters/cloudflare/DurableTokenStore.js"
import * as KvStateStore from "../adapters/cloudflare/KvStateStore.js"
import { instanceStub } from "../adapters/cloudflare/MarketoInstanceApi.js"
import * as SyncLease from "../adapters/cloudflare/SyncLease.js"
import type { InstanceRecords, PlatformService } from "./Platform.js"
import type { WorkerEnv } from "./WorkerEnv.js"

export const cloudflarePlatform = (env: WorkerEnv): PlatformService => {
  const stub = (endpoint: string) => instanceStub(env.MARKETO_INSTANCE, endpoint)
  return {
    env,
    instance: (endpoint): InstanceRecords => {
      const object = stub(endpoint)
      return {
        admitAudiences: (requests, maxAudiences) => object.admitAudiences(requests, maxAudiences),
        registerAudience: (key) => object.registerAudience(key),
        buryAudience: (key, at, onlyIfLive) => object.buryAudience(key, at, onlyIfLive),
        countIgnored: (counts) => object.countIgnored(counts),
        tombstones: () => object.tombstones(),
        recordTick: (record) => object.recordTick(record),
        tickHistory: () => object.tickHistory(),
        status: () => object.status(),
        getLeadFieldCheck: () => object.getLeadFieldCheck(),
        setLeadFieldCheck: (check) => object.setLeadFieldCheck(check)
      }
    },
    stateStore: (endpoint) => KvStateStore.make(env.STATE, stub(endpoint)),
    rateLimiter: (endpoint) => DurableRateLimiter.layer(stub(endpoint)),
    tokenStore: (endpoint) => DurableTokenStore.make(stub(endpoint)),
    syncLease: (endpoint) => SyncLease.make(stub(endpoint))
  }
}
