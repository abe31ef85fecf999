// The SyncLease contract (test/contracts/SyncLeaseContract.ts) against the Deno KV adapter, under `deno test`
// (npm run test:deno; scripts/deno-test.mjs gives the flags). One file per contract, so that
// `deno test --parallel` runs them side by side: their cases mostly wait on windows and leases.
import { Effect } from "effect"
import * as DenoKvSyncLease from "../../adapters/deno/DenoKvSyncLease.ts"
import { makeSkewClock } from "../contracts/SkewClock.ts"
import { syncLeaseContract } from "../contracts/SyncLeaseContract.ts"
import { contract, freshPair } from "./DenoKvHarness.ts"

// The adapter reads the Effect clock: the cases skip time on it rather than sleep.
const clock = makeSkewClock()

contract("SyncLease contract: Deno KV", clock.on(syncLeaseContract), {
  open: Effect.map(freshPair, ([a, b]) => ({ lease: DenoKvSyncLease.make(a), second: DenoKvSyncLease.make(b) })),
  skip: clock.skip
})
