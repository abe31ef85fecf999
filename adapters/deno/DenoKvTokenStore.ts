// The Marketo access token on Deno KV, shared by every process of the deployment: one record per
// Marketo instance, [...prefix, "token"]. `clear` forgets the token only if it is still the one
// the caller saw rejected (a versionstamp-checked delete), so a fresh token another process just
// stored survives.
import { Effect, Layer, Option } from "effect"
import { type StoredToken, TokenStore } from "../marketo/AccessToken.js"
import { DenoKv, type DenoKvService } from "./DenoKv.js"
import { kvTry, update } from "./KvAtomic.js"

export const make = ({ kv, prefix }: DenoKvService): TokenStore["Type"] => {
  const key: Deno.KvKey = [...prefix, "token"]
  return {
    // Without the database, the client can still ask Marketo for a token of its own.
    get: kvTry("getToken", () => kv.get<StoredToken>(key)).pipe(
      Effect.map((entry) => Option.fromNullable(entry.value)),
      Effect.orElseSucceed(() => Option.none<StoredToken>())
    ),
    set: (token) => kvTry("setToken", () => kv.set(key, { token: token.token, expiresAt: token.expiresAt })).pipe(Effect.ignore),
    clear: (token) =>
      update<StoredToken, void>(kv, key, "clearToken", (current) => ({
        answer: undefined,
        next: current !== null && current.token === token ? null : undefined
      })).pipe(Effect.ignore)
  }
}

export const layer: Layer.Layer<TokenStore, never, DenoKv> = Layer.effect(TokenStore, Effect.map(DenoKv, make))
