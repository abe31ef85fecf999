// The StateStore contract (test/contracts/StateStoreContract.ts) against the Deno KV adapter, under `deno test`
// (npm run test:deno; scripts/deno-test.mjs gives the flags). One file per contract, so that
// `deno test --parallel` runs them side by side: their cases mostly wait on windows and leases.
import { Effect } from "effect"
import * as DenoKvStateStore from "../../adapters/deno/DenoKvStateStore.ts"
import { stateStoreContract } from "../contracts/StateStoreContract.ts"
import { contract, freshPair } from "./DenoKvHarness.ts"

contract("StateStore contract: Deno KV", stateStoreContract, {
  open: Effect.map(freshPair, ([a, b]) => ({ store: DenoKvStateStore.make(a), second: DenoKvStateStore.make(b) }))
})
