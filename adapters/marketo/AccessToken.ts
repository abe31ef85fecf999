// Marketo access tokens: one identity call serves every request until the token nears expiry.
// The token is shared through a TokenStore (the instance's Durable Object on Workers, memory
// elsewhere); concurrent requests that find none wait on one refresh instead of each asking.
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Cause, Clock, Context, Deferred, Effect, Exit, Layer, Option, Redacted, Ref, Schema } from "effect"
import { MarketoAuthError, MarketoTransient } from "../../core/marketo/MarketoErrors.js"
import type { MarketoError } from "../../core/ports/MarketoApi.js"
import { MarketoConfig } from "./MarketoConfig.js"

export interface StoredToken {
  readonly token: string
  /** Epoch ms after which Marketo no longer accepts the token. */
  readonly expiresAt: number
}

/**
 * Where the current access token lives, so that every invocation of the worker shares one token
 * per Marketo instance (the instance's Durable Object on Workers; memory in one process).
 * A store only keeps what it is given: freshness, refresh and single-flight are the client's.
 * - `get`: the token last set, if any (a store that cannot answer returns none: the client then
 *   asks Marketo, which hands back the same token while it lives).
 * - `set`: replace the token.
 * - `clear(token)`: forget that token after Marketo refused it (601/602), but only if it is still
 *   the stored one, so a token another invocation just set survives.
 */
export class TokenStore extends Context.Tag("marketo-lists/TokenStore")<TokenStore, {
  readonly get: Effect.Effect<Option.Option<StoredToken>>
  readonly set: (token: StoredToken) => Effect.Effect<void>
  readonly clear: (token: string) => Effect.Effect<void>
}>() {
  static readonly makeMemory: Effect.Effect<TokenStore["Type"]> = Effect.map(Ref.make(Option.none<StoredToken>()), (ref) => ({
    get: Ref.get(ref),
    set: (token) => Ref.set(ref, Option.some(token)),
    clear: (token) => Ref.update(ref, Option.filter((t) => t.token !== token))
  }))
  static readonly layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, TokenStore.makeMemory)
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
  const timeoutMillis = config.requestTimeoutMillis ?? 120_000
  // The one refresh in flight, which every caller that needs a token waits on.
  const inflight = yield* Ref.make(Option.none<Deferred.Deferred<string, MarketoError>>())

  const fresh = (token: StoredToken, now: number) => token.expiresAt - now > refreshMarginMillis

  const ask: Effect.Effect<StoredToken, MarketoError> = Effect.gen(function*() {
    // A form body, not the query: the secret never appears in a URL or an access log.
    const request = HttpClientRequest.post(`${config.baseUrl}/identity/oauth/token`).pipe(
      HttpClientRequest.bodyUrlParams({
        grant_type: "client_credentials",
        client_id: config.clientId,
        client_secret: Redacted.value(config.clientSecret)
      })
    )
    const [response, text] = yield* http.execute(request).pipe(
      Effect.flatMap((r) => Effect.map(r.text.pipe(Effect.orElseSucceed(() => "")), (t) => [r, t] as const)),
      Effect.mapError(() => new MarketoTransient({ code: "network", message: "the identity request did not complete" })),
      Effect.timeoutFail({
        duration: timeoutMillis,
        onTimeout: () => new MarketoTransient({ code: "timeout", message: `the identity endpoint did not answer within ${timeoutMillis} ms` })
      })
    )
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

  const refreshAndStore = Effect.gen(function*() {
    // Another invocation may have refreshed the shared token meanwhile.
    const shared = yield* store.get
    if (Option.isSome(shared) && fresh(shared.value, yield* Clock.currentTimeMillis)) return shared.value.token
    const token = yield* askUntilFresh
    yield* store.set(token)
    return token.token
  })

  // Single flight: the first caller runs the refresh, the others await its result (success or
  // failure alike, so bad credentials cost one identity call, not one per waiting caller).
  // A leader that is interrupted hands its waiters a transient failure, which their retry covers.
  const interrupted = new MarketoTransient({ code: "interrupted", message: "the token refresh was interrupted" })
  const refresh: Effect.Effect<string, MarketoError> = Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const mine = yield* Deferred.make<string, MarketoError>()
      const leader = yield* Ref.modify(inflight, (current) =>
        Option.isSome(current) ? [current.value, current] as const : [mine, Option.some(mine)] as const)
      if (leader !== mine) return yield* restore(Deferred.await(leader))
      return yield* restore(refreshAndStore).pipe(
        Effect.onExit((exit) =>
          Effect.zipRight(
            Ref.set(inflight, Option.none()),
            Deferred.done(mine, Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause) ? Exit.fail(interrupted) : exit)
          )
        )
      )
    })
  )

  const current = Effect.gen(function*() {
    const shared = yield* store.get
    if (Option.isSome(shared) && fresh(shared.value, yield* Clock.currentTimeMillis)) return shared.value.token
    return yield* refresh
  })

  return { current, invalidate: store.clear } satisfies AccessTokens
})
