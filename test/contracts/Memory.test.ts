// The port contracts against the in-memory implementations (one process: `second` is the same
// instance). `npx vitest run --project node test/contracts`.
import { Effect } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import { makeRateLimiterMemory } from "../../core/ports/RateLimiterMemory.js"
import { makeStateStoreMemory } from "../../core/ports/StateStoreMemory.js"
import { makeSyncLeaseMemory } from "../../core/ports/SyncLeaseMemory.js"
import { rateLimiterContract } from "./RateLimiterContract.js"
import { stateStoreContract } from "./StateStoreContract.js"
import { makeSkewClock } from "./SkewClock.js"
import { syncLeaseContract } from "./SyncLeaseContract.js"
import { tokenStoreContract } from "./TokenStoreContract.js"
import { describeContract } from "./Vitest.js"

describeContract("StateStore contract: memory", stateStoreContract, {
  open: Effect.map(makeStateStoreMemory(), (store) => ({ store, second: store }))
})

describeContract("RateLimiter contract: memory", rateLimiterContract, {
  open: (config) => Effect.map(makeRateLimiterMemory(config), (limiter) => ({ limiter, second: limiter }))
})

// The memory lease reads the Effect clock: the cases skip time on it rather than sleep.
const leaseClock = makeSkewClock()
describeContract("SyncLease contract: memory", leaseClock.on(syncLeaseContract), {
  open: Effect.map(makeSyncLeaseMemory, (lease) => ({ lease, second: lease })),
  skip: leaseClock.skip
})

describeContract("TokenStore contract: memory", tokenStoreContract, {
  open: Effect.map(TokenStore.makeMemory, (store) => ({ store, second: store }))
})
