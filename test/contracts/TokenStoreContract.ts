// The TokenStore contract (adapters/marketo/AccessToken.ts): the store keeps the token it was
// last given, and forgets a token Marketo refused only if it is still the stored one, so a fresh
// token another invocation just stored survives. Freshness and refresh are the client's, not the
// store's. `second` is another handle on the same store (another process or invocation).
import { Effect, Option, type Scope } from "effect"
import type { TokenStore } from "../../adapters/marketo/AccessToken.js"
import { type ContractCase, equal } from "./Contract.js"

type Store = TokenStore["Type"]

export interface TokenStoreHarness {
  readonly open: Effect.Effect<{ readonly store: Store; readonly second: Store }, unknown, Scope.Scope>
}

type Case = ContractCase<TokenStoreHarness>

const keeps: Case = {
  name: "get answers none, then the token set, then the token that replaced it, on both handles",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      equal(yield* store.get, Option.none(), "before any token")
      yield* store.set({ token: "t1", expiresAt: 1_000 })
      equal(yield* second.get, Option.some({ token: "t1", expiresAt: 1_000 }), "after set")
      yield* second.set({ token: "t2", expiresAt: 2_000 })
      equal(yield* store.get, Option.some({ token: "t2", expiresAt: 2_000 }), "after a second set")
    })
}

const clearsCurrent: Case = {
  name: "clear forgets the token only if it is still the stored one",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      yield* store.clear("nothing stored")
      equal(yield* store.get, Option.none(), "clear with nothing stored")
      yield* store.set({ token: "old", expiresAt: 1_000 })
      // Another invocation refreshed the token after this one saw "old" refused.
      yield* second.set({ token: "fresh", expiresAt: 2_000 })
      yield* store.clear("old")
      equal(yield* second.get, Option.some({ token: "fresh", expiresAt: 2_000 }), "after clearing a token already replaced")
      yield* store.clear("fresh")
      equal(yield* second.get, Option.none(), "after clearing the stored token")
    })
}

export const tokenStoreContract: ReadonlyArray<Case> = [keeps, clearsCurrent]
