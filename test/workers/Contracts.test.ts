// The port contracts (test/contracts) against the Cloudflare adapters, inside workerd: the KV
// store with its pointers in the instance's Durable Object, the Durable Object's rate budget,
// lease and token. `second` is a second adapter over the same object, as another invocation of
// the worker would have.
import { env, runInDurableObject } from "cloudflare:test"
import { Effect } from "effect"
import * as DurableRateLimiter from "../../adapters/cloudflare/DurableRateLimiter.js"
import * as DurableTokenStore from "../../adapters/cloudflare/DurableTokenStore.js"
import * as KvStateStore from "../../adapters/cloudflare/KvStateStore.js"
import * as SyncLease from "../../adapters/cloudflare/SyncLease.js"
import { makeStaleKv, type StaleKv } from "../../adapters/cloudflare/testing/StaleKv.js"
import type { RateBudgetConfig } from "../../core/marketo/RateBudget.js"
import { MarketoInstance } from "../../workers/MarketoInstance.js"
import { rateLimiterContract } from "../contracts/RateLimiterContract.js"
import { stateStoreContract, visibility } from "../contracts/StateStoreContract.js"
import { syncLeaseContract } from "../contracts/SyncLeaseContract.js"
import { tokenStoreContract } from "../contracts/TokenStoreContract.js"
import { describeContract } from "../contracts/Vitest.js"

let objects = 0
/** A Durable Object no other case has used. */
const freshStub = () => env.MARKETO_INSTANCE.get(env.MARKETO_INSTANCE.idFromName(`contract-${++objects}`))

describeContract("StateStore contract: Workers KV + Durable Object pointers", stateStoreContract, {
  open: Effect.sync(() => {
    const stub = freshStub()
    return { store: KvStateStore.make(env.STATE, stub), second: KvStateStore.make(env.STATE, stub) }
  })
})

// The same store over a KV whose writes stay invisible until settled, as in a distant location.
let stale: StaleKv | undefined
describeContract("StateStore contract: Workers KV seen from a lagging location", [visibility], {
  open: Effect.sync(() => {
    const stub = freshStub()
    const kv = stale = makeStaleKv(env.STATE, 60_000)
    return { store: KvStateStore.make(kv, stub), second: KvStateStore.make(kv, stub) }
  }),
  settle: Effect.sync(() => stale?.settle())
})

/**
 * The object's own budget methods over its own storage, with the contract's limits: the limits
 * through the variables the object reads, the window (Marketo's 20 s, which no variable changes)
 * set on the instance, so that a case waits a fraction of a second for it to roll.
 */
const budgetObject = (config: RateBudgetConfig): DurableRateLimiter.BudgetObject => {
  const stub = freshStub()
  const limits = {
    ...env,
    MARKETO_CALLS_PER_20S: String(config.callsPerWindow),
    MARKETO_MAX_CONCURRENCY: String(config.maxConcurrency),
    MARKETO_DAILY_QUOTA: String(config.dailyQuota),
    MARKETO_DAILY_RESERVE: String(config.dailyReserve)
  }
  const within = <A>(f: (instance: MarketoInstance) => A) =>
    runInDurableObject(stub, (_object, state) => {
      const instance = new MarketoInstance(state, limits)
      Object.assign(instance, { budget: config })
      return f(instance)
    })
  return {
    acquire: (permitId) => within((o) => o.acquire(permitId)),
    release: (permitId) => within((o) => o.release(permitId)),
    signal: (code) => within((o) => o.signal(code)),
    status: () => within((o) => o.status())
  }
}

describeContract("RateLimiter contract: Durable Object", rateLimiterContract, {
  open: (config) =>
    Effect.sync(() => {
      const object = budgetObject(config)
      return { limiter: DurableRateLimiter.make(object), second: DurableRateLimiter.make(object) }
    })
})

describeContract("SyncLease contract: Durable Object", syncLeaseContract, {
  open: Effect.sync(() => {
    const stub = freshStub()
    return { lease: SyncLease.make(stub), second: SyncLease.make(stub) }
  })
})

describeContract("TokenStore contract: Durable Object", tokenStoreContract, {
  open: Effect.sync(() => {
    const stub = freshStub()
    return { store: DurableTokenStore.make(stub), second: DurableTokenStore.make(stub) }
  })
})
