// What the cases of the client suite share: the sandbox server on 127.0.0.1 (and any others a case
// starts), a client layer over real fetch with a pass-through rate limiter that counts permits
// and keeps signals, and everything the run's last case searches for secrets (the tokens the
// sandbox issued and the errors the client produced).
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/1-events/Email.js"
import type { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import type { SandboxConfig } from "../sandbox/SandboxConfig.js"
import type { SandboxRequest, SandboxResponse } from "../sandbox/SandboxModel.js"
import { type SandboxServer, startSandboxServer } from "../sandbox/server.js"

export type Recorder = (request: SandboxRequest, response: SandboxResponse) => void

export const SECRET = "local-client-secret"
export const WRONG_SECRET = "wrong-secret-value-93ab"

export class ClientSuiteContext {
  /** The sandbox most cases use (started before the first case). */
  server!: SandboxServer
  /** Permits the pass-through limiter granted since the case began. */
  permits = 0
  readonly signals: Array<string> = []
  /** Every token the sandbox issued and every error the client produced, for the secrets check. */
  readonly issuedTokens = new Set<string>()
  readonly producedErrors: Array<unknown> = []
  private readonly servers: Array<SandboxServer> = []

  constructor(private readonly record: Recorder) {}

  start = async (config: Partial<SandboxConfig> = {}) => {
    const s = await startSandboxServer({
      port: 0,
      host: "127.0.0.1",
      config,
      onExchange: (request, response) => {
        this.record(request, response)
        if (request.url.startsWith("/identity/") && response.status === 200) this.issuedTokens.add((JSON.parse(response.body) as { access_token: string }).access_token)
      }
    })
    this.servers.push(s)
    return s
  }

  closeAll = async () => {
    await Promise.all(this.servers.map((s) => s.close()))
  }

  /** Lets every call through, counting permits and keeping the signals. */
  passThrough = Layer.succeed(RateLimiter, {
    withPermit: (self) => Effect.suspend(() => (this.permits++, self)),
    signal: (s) => Effect.sync(() => void this.signals.push(s.code)),
    status: Effect.die("not used")
  })

  clientLayer = (options: { url?: string; clientSecret?: string; limiter?: Layer.Layer<RateLimiter> } = {}) =>
    MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
      FetchHttpClient.layer,
      options.limiter ?? this.passThrough,
      TokenStore.layerMemory,
      MarketoConfig.layer({
        baseUrl: options.url ?? this.server.url,
        clientId: "local-client-id",
        clientSecret: Redacted.make(options.clientSecret ?? SECRET),
        retryBaseMillis: 5
      })
    )))

  run = <A, E>(effect: Effect.Effect<A, E, MarketoApi>, layer = this.clientLayer()) =>
    Effect.runPromise(Effect.either(effect.pipe(
      Effect.tapError((e) => Effect.sync(() => void this.producedErrors.push(e))),
      Effect.provide(layer)
    )))
  left = <A, E>(r: Either.Either<A, E>) => Either.getLeft(r).pipe(Option.getOrThrow)
  emails = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com` as Email)
  outcomes = () => this.server.sandbox.counters().byOutcome
  control = (route: string, body: unknown) =>
    fetch(`${this.server.url}/__sandbox/${route}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json())
}
