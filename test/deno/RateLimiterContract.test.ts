// The RateLimiter contract (test/contracts/RateLimiterContract.ts) against the Deno KV adapter, under `deno test`
// (npm run test:deno; scripts/deno-test.mjs gives the flags). One file per contract, so that
// `deno test --parallel` runs them side by side: their cases mostly wait on windows and leases.
import { Effect } from "effect"
import * as DenoKvRateLimiter from "../../adapters/deno/DenoKvRateLimiter.ts"
import { rateLimiterContract } from "../contracts/RateLimiterContract.ts"
import { contract, freshPair } from "./DenoKvHarness.ts"

contract("RateLimiter contract: Deno KV", rateLimiterContract, {
  open: (config) =>
    Effect.flatMap(freshPair, ([a, b]) =>
      Effect.all({ limiter: DenoKvRateLimiter.make(a, config), second: DenoKvRateLimiter.make(b, config) }))
})
