// The Marketo access token, shared by every invocation through the instance's Durable Object:
// one identity call serves them all until the token nears its expiry.
import { Effect, Option } from "effect"
import type { MarketoInstanceStub, StoredToken } from "./MarketoInstanceApi.js"
import { rpcCall } from "./RpcCall.js"

export interface DurableTokenStoreService {
  readonly get: Effect.Effect<Option.Option<StoredToken>>
  readonly set: (token: StoredToken) => Effect.Effect<void>
  /** Forget a token Marketo rejected (601/602), unless another invocation already replaced it. */
  readonly clear: (token: string) => Effect.Effect<void>
}

export type TokenObject = Pick<MarketoInstanceStub, "getToken" | "setToken" | "clearToken">

export const make = (instance: TokenObject): DurableTokenStoreService => ({
  // Without the object, the client can still ask Marketo for a token of its own.
  get: rpcCall("getToken", () => instance.getToken()).pipe(
    Effect.map(Option.fromNullable),
    Effect.catchAll(() => Effect.succeed(Option.none()))
  ),
  set: (token) => rpcCall("setToken", () => instance.setToken(token)).pipe(Effect.ignore),
  clear: (token) => rpcCall("clearToken", () => instance.clearToken(token)).pipe(Effect.ignore)
})
