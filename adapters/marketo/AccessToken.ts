// Marketo access tokens: one identity call serves every request until the token nears expiry.
// The token is shared through a TokenStore (the instance's Durable Object on Workers, memory
// elsewhere); concurrent requests that find none wait on one refresh instead of each asking.
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Clock, Context, Effect, Layer, Option, Redacted, Ref, Schema } from "effect"
import { MarketoAuthError, MarketoTransient } from "../../core/MarketoErrors.js"
import type { MarketoError } from "../../core/ports/MarketoApi.js"
import { MarketoConfig } from "./MarketoConfig.js"

export interface StoredToken {
  readonly token: string
  /** Epoch ms after which Marketo no longer accepts the token. */
  readonly expiresAt: number
}

export class TokenStore extends Context.Tag("marketo-lists/TokenStore")<TokenStore, {
  readonly get: Effect.Effect<Option.Option<StoredToken>>
  readonly set: (token: StoredToken) => Effect.Effect<void>
  /** Forget a token Marketo rejected, unless another caller already replaced it. */
  readonly clear: (token: string) => Effect.Effect<void>
}>() {
  static readonly layerMemory = Layer.effect(
    TokenStore,
    Effect.map(Ref.make(Option.none<StoredToken>()), (ref) => ({
      get: Ref.get(ref),
      set: (token) => Ref.set(ref, Option.some(token)),
      clear: (token) => Ref.update(ref, Option.filter((t) => t.token !== token))
    }))
  )
}

/** Refresh this long before expiry, so no request goes out with a token about to lapse. */
const refreshMarginMillis = 60_000

const TokenResponse = Schema.Struct({ access_token: Schema.String, expires_in: Schema.Number })
const ErrorResponse = Schema.Struct({ error: Schema.String, error_description: Schema.optional(Schema.String) })

const badCredentials = new MarketoAuthError({
  code: "invalid_client",
  message: "Marketo refused the client credentials: check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (a LaunchPoint Custom service of an API-only user)"
})

export interface AccessTokens {
  /** A valid token: the shared one, or a fresh one from a single refresh. */
  readonly current: Effect.Effect<string, MarketoError>
  /** Marketo said 601/602 for this token: drop it so the next `current` asks again. */
  readonly invalidate: (token: string) => Effect.Effect<void>
}

export const makeAccessTokens = Effect.gen(function*() {
  const http = yield* HttpClient.HttpClient
  const config = yield* MarketoConfig
  const store = yield* TokenStore
  const refreshing = yield* Effect.makeSemaphore(1)

  const fresh = (token: StoredToken, now: number) => token.expiresAt - now > refreshMarginMillis

  const ask: Effect.Effect<StoredToken, MarketoError> = Effect.gen(function*() {
    const request = HttpClientRequest.post(`${config.baseUrl}/identity/oauth/token`).pipe(
      HttpClientRequest.bodyUrlParams({
        grant_type: "client_credentials",
        client_id: config.clientId,
        client_secret: Redacted.value(config.clientSecret)
      })
    )
    const response = yield* http.execute(request).pipe(
      Effect.mapError(() => new MarketoTransient({ code: "network", message: "the identity request did not complete" }))
    )
    const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const json = Option.getOrUndefined(Schema.decodeUnknownOption(Schema.parseJson())(text))
    if (response.status === 401 || Option.isSome(Schema.decodeUnknownOption(ErrorResponse)(json))) return yield* Effect.fail(badCredentials)
    if (response.status !== 200) return yield* new MarketoTransient({ code: `HTTP ${response.status}`, message: "the identity endpoint failed" })
    const body = yield* Schema.decodeUnknown(TokenResponse)(json).pipe(
      Effect.mapError(() => new MarketoTransient({ code: "identity", message: "the identity endpoint answered without a token" }))
    )
    const now = yield* Clock.currentTimeMillis
    return { token: body.access_token, expiresAt: now + body.expires_in * 1000 }
  })

  // Marketo hands back the same token until it expires: one about to lapse is waited out.
  const askUntilFresh = Effect.gen(function*() {
    for (let attempt = 0; ; attempt++) {
      const token = yield* ask
      const now = yield* Clock.currentTimeMillis
      if (fresh(token, now) || attempt >= 2) return token
      yield* Effect.sleep(Math.max(1_000, token.expiresAt - now + 1_000))
    }
  })

  const current = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const shared = yield* store.get
    if (Option.isSome(shared) && fresh(shared.value, now)) return shared.value.token
    return yield* refreshing.withPermits(1)(Effect.gen(function*() {
      const again = yield* store.get
      if (Option.isSome(again) && fresh(again.value, yield* Clock.currentTimeMillis)) return again.value.token
      const token = yield* askUntilFresh
      yield* store.set(token)
      return token.token
    }))
  })

  return { current, invalidate: store.clear } satisfies AccessTokens
})
