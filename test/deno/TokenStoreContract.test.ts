// The TokenStore contract (test/contracts/TokenStoreContract.ts) against the Deno KV adapter, under `deno test`
// (npm run test:deno; scripts/deno-test.mjs gives the flags). One file per contract, so that
// `deno test --parallel` runs them side by side: their cases mostly wait on windows and leases.
import { Effect } from "effect"
import * as DenoKvTokenStore from "../../adapters/deno/DenoKvTokenStore.ts"
import { tokenStoreContract } from "../contracts/TokenStoreContract.ts"
import { contract, freshPair } from "./DenoKvHarness.ts"

contract("TokenStore contract: Deno KV", tokenStoreContract, {
  open: Effect.map(freshPair, ([a, b]) => ({ store: DenoKvTokenStore.make(a), second: DenoKvTokenStore.make(b) }))
})
