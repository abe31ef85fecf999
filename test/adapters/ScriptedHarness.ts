// A Marketo client over a scripted HttpClient, for tests on the TestClock: each request is seen
// (method, URL, headers, body, form, whether a rate-limiter permit was held) and answered by a
// script, with the limiter's permits and signals counted, and every error recorded for the
// secrets check of the file that uses it.
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Effect, Redacted } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig, type MarketoConfigValues } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/1-events/Email.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"

export const SECRET = "scripted-secret-5f1e"
export const TOKEN = "scripted-token-0a9c:ab"

export interface Seen {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly form: FormData | undefined
  /** Whether a rate-limiter permit was held while the call was sent. */
  readonly inPermit: boolean
}

export type Answer =
  | { readonly status?: number; readonly json?: unknown; readonly text?: string; readonly contentType?: string }
  | "drop"
  | "hang"

export const ok = (result: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}): Answer => ({ json: { requestId: "r#1", success: true, result, ...extra } })
export const fail = (code: string, message = "scripted"): Answer => ({ json: { requestId: "r#1", success: false, errors: [{ code, message }] } })
export const tokenAnswer = (expiresIn = 3599, token = TOKEN): Answer => ({ json: { access_token: token, token_type: "bearer", expires_in: expiresIn, scope: "api@x" } })
export const isIdentity = (s: Seen) => s.url.pathname === "/identity/oauth/token"

/** Every error the client produced in the test file, to check none carries a secret or token. */
export const producedErrors: Array<unknown> = []

export const harness = (
  script: (seen: Seen, apiCallNumber: number) => Answer | Effect.Effect<Answer>,
  overrides: Partial<MarketoConfigValues> = {},
  /** Permits one at a time: a second call waits for the first to end. */
  serial = false
) =>
  Effect.gen(function*() {
    const one = yield* Effect.makeSemaphore(1)
    const seen: Array<Seen> = []
    const signals: Array<string> = []
    let permits = 0
    let held = 0
    const http = HttpClient.make((request: HttpClientRequest.HttpClientRequest, url: URL) =>
      Effect.gen(function*() {
        const body = request.body._tag === "Uint8Array" ? new TextDecoder().decode(request.body.body) : ""
        const form = request.body._tag === "FormData" ? request.body.formData : undefined
        const headers = { ...request.headers, ...(request.body._tag === "Uint8Array" ? { "content-type": request.body.contentType } : {}) }
        const entry: Seen = { method: request.method, url, headers, body, form, inPermit: held > 0 }
        seen.push(entry)
        const n = seen.filter((s) => !isIdentity(s)).length
        const scripted = script(entry, n)
        const answer = Effect.isEffect(scripted) ? yield* scripted : scripted
        if (answer === "drop") return yield* new HttpClientError.RequestError({ request, reason: "Transport", cause: "connection reset" })
        if (answer === "hang") return yield* Effect.never
        const text = answer.text ?? JSON.stringify(answer.json)
        return HttpClientResponse.fromWeb(request, new Response(text, {
          status: answer.status ?? 200,
          headers: { "content-type": answer.contentType ?? "application/json" }
        }))
      })
    )
    const limiter = RateLimiter.of({
      withPermit: (self) => {
        const permitted = Effect.acquireUseRelease(Effect.sync(() => (permits++, held++)), () => self, () => Effect.sync(() => held--))
        return serial ? one.withPermits(1)(permitted) : permitted
      },
      signal: (s) => Effect.sync(() => void signals.push(s.code)),
      status: Effect.die("not used")
    })
    const api = yield* MarketoClient.make.pipe(
      Effect.provideService(HttpClient.HttpClient, http),
      Effect.provideService(RateLimiter, limiter),
      Effect.provideServiceEffect(TokenStore, TokenStore.makeMemory),
      Effect.provideService(MarketoConfig, {
        baseUrl: "https://123-abc-456.mktorest.com",
        clientId: "scripted-client",
        clientSecret: Redacted.make(SECRET),
        ...overrides
      })
    )
    const record = <A, E>(effect: Effect.Effect<A, E>) => Effect.tapError(effect, (e) => Effect.sync(() => void producedErrors.push(e)))
    return {
      api,
      seen,
      signals,
      record,
      permits: () => permits,
      identityCalls: () => seen.filter(isIdentity).length,
      apiCalls: () => seen.filter((s) => !isIdentity(s))
    }
  })

/** Identity answers a token; every other call gets `api`. */
export const withToken = (api: (seen: Seen, n: number) => Answer | Effect.Effect<Answer>) => (seen: Seen, n: number) =>
  isIdentity(seen) ? tokenAnswer() : api(seen, n)

export const folders = ok([{ id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }])
export const emails = (...xs: Array<string>) => xs as Array<Email>
