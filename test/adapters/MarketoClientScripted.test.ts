// The Marketo client against a scripted HttpClient, on the TestClock: token sharing and refresh,
// retry timing, the code table, the permit around every call, and the exact requests it sends.
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { describe, expect, it } from "@effect/vitest"
import { Cause, ConfigProvider, Effect, Either, Exit, Fiber, Option, Redacted, TestClock } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig, type MarketoConfigValues, marketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/1-events/Email.js"
import type { FolderId, ImportBatchId, LeadId, ListId } from "../../core/1-events/Ids.js"
import { MarketoLimits } from "../../core/marketo/MarketoLimits.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"

const SECRET = "scripted-secret-5f1e"
const TOKEN = "scripted-token-0a9c:ab"

interface Seen {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly form: FormData | undefined
  /** Whether a rate-limiter permit was held while the call was sent. */
  readonly inPermit: boolean
}

type Answer =
  | { readonly status?: number; readonly json?: unknown; readonly text?: string; readonly contentType?: string }
  | "drop"
  | "hang"

const ok = (result: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}): Answer => ({ json: { requestId: "r#1", success: true, result, ...extra } })
const fail = (code: string, message = "scripted"): Answer => ({ json: { requestId: "r#1", success: false, errors: [{ code, message }] } })
const tokenAnswer = (expiresIn = 3599, token = TOKEN): Answer => ({ json: { access_token: token, token_type: "bearer", expires_in: expiresIn, scope: "api@x" } })
const isIdentity = (s: Seen) => s.url.pathname === "/identity/oauth/token"

/** Every error the client produced in this file, to check none carries a secret or token. */
const producedErrors: Array<unknown> = []

const harness = (
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
const withToken = (api: (seen: Seen, n: number) => Answer | Effect.Effect<Answer>) => (seen: Seen, n: number) =>
  isIdentity(seen) ? tokenAnswer() : api(seen, n)

const folders = ok([{ id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }])
const emails = (...xs: Array<string>) => xs as Array<Email>

describe("requests on the wire", () => {
  it.effect("asks for the token with a form body, then sends it as a Bearer header only, each call under a permit", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => folders))
      yield* h.api.findFolders("Engage Audiences")
      yield* h.api.findFolders("Engage Audiences")
      const [identity, ...calls] = h.seen
      expect(identity?.method).toBe("POST")
      expect(identity?.url.search).toBe("")
      expect(new URLSearchParams(identity?.body).get("client_secret")).toBe(SECRET)
      expect(identity?.inPermit).toBe(false)
      expect(calls).toHaveLength(2)
      for (const c of calls) {
        expect(c.headers["authorization"]).toBe(`Bearer ${TOKEN}`)
        expect(c.url.searchParams.has("access_token")).toBe(false)
        expect(c.url.href).not.toContain(SECRET)
        expect(c.inPermit).toBe(true)
        expect(c.url.pathname).toBe("/rest/asset/v1/folder/byName.json")
        expect(c.url.searchParams.get("type")).toBe("Folder")
      }
      expect(h.permits()).toBe(2)
    }))

  it.effect("creates a static list with a form body naming the folder as JSON", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => ok([{ id: 77, name: "vip", folder: { id: 1034, type: "Folder" } }])))
      const list = yield* h.api.createStaticList("vip", 1034 as FolderId)
      const call = h.apiCalls()[0]!
      expect(call.method).toBe("POST")
      expect(call.headers["content-type"]).toBe("application/x-www-form-urlencoded")
      const form = new URLSearchParams(call.body)
      expect(form.get("name")).toBe("vip")
      expect(JSON.parse(form.get("folder")!)).toEqual({ id: 1034, type: "Folder" })
      expect(list).toEqual({ id: 77, name: "vip", folderId: 1034 })
    }))

  it.effect("looks up by GET while the URI fits 8 KB, else POSTs with _method=GET and a form body", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => ok([])))
      const short = emails("a@example.com", "b@example.com")
      const long = Array.from({ length: 300 }, (_, i) => `someone.with.a.long.address.${i}@example.com` as Email)
      yield* h.api.lookupLeads(short)
      yield* h.api.lookupLeads(long)
      const [get, post] = h.apiCalls()
      expect(get?.method).toBe("GET")
      expect(get?.url.searchParams.get("filterValues")).toBe("a@example.com,b@example.com")
      expect(get?.url.searchParams.get("filterType")).toBe("email")
      expect(post?.method).toBe("POST")
      expect(post?.url.search).toBe("?_method=GET")
      expect(new URLSearchParams(post?.body).get("filterValues")?.split(",")).toHaveLength(300)
      for (const c of h.apiCalls()) expect(c.url.href.length).toBeLessThan(MarketoLimits.maxUriBytes)
    }))

  it.effect("imports a multipart CSV file with format, lookupField and listId", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => ok([{ batchId: 3404, importId: "3404", status: "Queued" }])))
      const jobs = yield* h.api.importLeads(9 as ListId, emails("a@example.com", "with,comma@example.com"))
      const call = h.apiCalls()[0]!
      expect(jobs).toEqual([{ batchId: 3404 }])
      expect(call.url.pathname).toBe("/bulk/v1/leads.json")
      expect(Object.fromEntries(call.url.searchParams)).toEqual({ format: "csv", lookupField: "email", listId: "9" })
      const file = call.form?.get("file") as File
      expect(file.name).toMatch(/\.csv$/)
      expect(file.type).toBe("text/csv")
      expect(yield* Effect.promise(() => file.text())).toBe("email\r\na@example.com\r\n\"with,comma@example.com\"\r\n")
    }))

  it.effect("reads list members a page at a time with fields id,email and batchSize 300", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken((_, n) =>
        n === 1 ? ok([{ id: 1, email: "a@example.com" }], { nextPageToken: "PAGE2" }) : ok([{ id: 2, email: null }])
      ))
      const first = yield* h.api.listMembers(5 as ListId)
      const second = yield* h.api.listMembers(5 as ListId, first.nextPageToken)
      expect(first).toEqual({ members: [{ leadId: 1, email: "a@example.com" }], nextPageToken: "PAGE2" })
      expect(second).toEqual({ members: [{ leadId: 2, email: null }] })
      const [a, b] = h.apiCalls()
      expect(a?.url.searchParams.get("fields")).toBe("id,email")
      expect(a?.url.searchParams.get("batchSize")).toBe("300")
      expect(a?.url.searchParams.has("nextPageToken")).toBe(false)
      expect(b?.url.searchParams.get("nextPageToken")).toBe("PAGE2")
    }))
})

describe("results as data", () => {
  it.effect("matches upsert outcomes to inputs by position, and refuses a count that differs", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken((_, n) =>
        n === 1
          ? ok([{ id: 10, status: "created" }, { status: "skipped", reasons: [{ code: "1007", message: "Multiple lead match lookup criteria" }] }, { id: 12, status: "updated" }])
          : ok([{ id: 10, status: "updated" }])
      ))
      const outcomes = yield* h.api.upsertLeads(emails("a@example.com", "twin@example.com", "c@example.com"))
      expect(outcomes).toEqual([
        { email: "a@example.com", status: "created", leadId: 10 },
        { email: "twin@example.com", status: "skipped", reasons: [{ code: "1007", message: "Multiple lead match lookup criteria" }] },
        { email: "c@example.com", status: "updated", leadId: 12 }
      ])
      const short = yield* Effect.either(h.record(h.api.upsertLeads(emails("a@example.com", "b@example.com"))))
      expect(Either.getLeft(short).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoUnknownError" })
    }))

  it.effect("refuses per-record results of an unexpected shape instead of guessing", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken((s) =>
        s.url.pathname === "/rest/v1/leads.json" ? ok([{ status: "created" }]) : ok([{ id: 5, status: "added" }])
      ))
      const noId = yield* Effect.either(h.record(h.api.upsertLeads(emails("a@example.com"))))
      const stranger = yield* Effect.either(h.record(h.api.addToList(3 as ListId, [4] as Array<LeadId>)))
      expect(Either.getLeft(noId).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoUnknownError", code: "shape" })
      expect(Either.getLeft(stranger).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoUnknownError", code: "shape" })
    }))

  it.effect("groups lookups per requested email case-insensitively: none, one, or several leads", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => ok([{ id: 1, email: "One@Example.com" }, { id: 2, email: "twin@example.com" }, { id: 3, email: "TWIN@example.com" }])))
      const found = yield* h.api.lookupLeads(emails("one@example.com", "twin@example.com", "none@example.com"))
      expect(found).toEqual([
        { email: "one@example.com", leadIds: [1] },
        { email: "twin@example.com", leadIds: [2, 3] },
        { email: "none@example.com", leadIds: [] }
      ])
    }))

  it.effect("reads add and remove statuses: added, removed, notMember (1015), skipped (1004)", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken((s) =>
        s.method === "POST"
          ? ok([{ id: 1, status: "added" }, { id: 9, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }])
          : ok([{ id: 1, status: "removed" }, { id: 2, status: "skipped", reasons: [{ code: "1015", message: "Lead not in list" }] }, { id: 9, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }])
      ))
      const added = yield* h.api.addToList(3 as ListId, [1, 9] as Array<LeadId>)
      const removed = yield* h.api.removeFromList(3 as ListId, [1, 2, 9] as Array<LeadId>)
      expect(added.map((o) => [o.leadId, o.status])).toEqual([[1, "added"], [9, "skipped"]])
      expect(removed.map((o) => [o.leadId, o.status])).toEqual([[1, "removed"], [2, "notMember"], [9, "skipped"]])
      expect(removed[2]?.reasons).toEqual([{ code: "1004", message: "Lead not found" }])
    }))

  it.effect("reads an import's status and its failures CSV, the reason from the last column", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken((s) =>
        s.url.pathname.endsWith("/failures.json")
          ? { text: "email,firstName,Import Failure Reason\r\n\"odd,one@example.com\",Al,Value for lookup field 'email' not found\r\n", contentType: "text/csv" }
          : ok([{ batchId: 7, importId: "7", status: "Failed", numOfLeadsProcessed: 0, numOfRowsFailed: 1, numOfRowsWithWarning: 0, message: "Import failed" }])
      ))
      const status = yield* h.api.importStatus(7 as ImportBatchId)
      const failures = yield* h.api.importFailures(7 as ImportBatchId)
      expect(status).toEqual({ batchId: 7, status: "Failed", leadsProcessed: 0, rowsFailed: 1, rowsWithWarning: 0, message: "Import failed" })
      expect(failures).toEqual([{ email: "odd,one@example.com", reason: "Value for lookup field 'email' not found" }])
    }))
})

describe("tokens", () => {
  it.effect("twenty concurrent calls needing a token make one identity call", () =>
    Effect.gen(function*() {
      const h = yield* harness((s) => (isIdentity(s) ? Effect.as(Effect.sleep("200 millis"), tokenAnswer()) : folders))
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 20 }, () => h.api.findFolders("x")), { concurrency: "unbounded" }))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(h.identityCalls()).toBe(1)
      expect(h.apiCalls()).toHaveLength(20)
    }))

  it.effect("bad credentials: one identity call for all waiting callers, an error naming the settings", () =>
    Effect.gen(function*() {
      const h = yield* harness((s) =>
        isIdentity(s) ? Effect.as(Effect.sleep("100 millis"), { status: 401, json: { error: "invalid_client", error_description: "Bad client credentials" } }) : folders
      )
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 10 }, () => Effect.either(h.record(h.api.findFolders("x")))), { concurrency: "unbounded" }))
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      expect(h.identityCalls()).toBe(1)
      expect(h.apiCalls()).toHaveLength(0)
      for (const r of results) {
        const error = Either.getLeft(r).pipe(Option.getOrThrow)
        expect(error._tag).toBe("MarketoAuthError")
        expect(error.message).toContain("check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET")
      }
    }))

  it.effect("reuses the token until shortly before it expires, then asks again", () =>
    Effect.gen(function*() {
      let issued = 0
      const h = yield* harness((s) => (isIdentity(s) ? tokenAnswer(3600, `token-${++issued}`) : folders))
      yield* h.api.findFolders("x")
      yield* TestClock.adjust("50 minutes")
      yield* h.api.findFolders("x")
      expect(h.identityCalls()).toBe(1)
      yield* TestClock.adjust("570 seconds") // 30 s left: inside the refresh margin
      yield* h.api.findFolders("x")
      expect(h.identityCalls()).toBe(2)
      expect(h.apiCalls().map((c) => c.headers["authorization"])).toEqual(["Bearer token-1", "Bearer token-1", "Bearer token-2"])
    }))

  it.effect("a call that waited for its permit sends the token current then, not one another call has just found bad", () =>
    Effect.gen(function*() {
      let issued = 0
      const h = yield* harness(
        (s, n) => (isIdentity(s) ? tokenAnswer(3600, `token-${++issued}`) : n === 1 ? fail("601", "Access token invalid") : folders),
        {},
        true
      )
      yield* h.api.findFolders("warm") // token-1 is cached; the script answers this one 601
        .pipe(Effect.either)
      const tokensSent = () => h.apiCalls().map((c) => c.headers["authorization"])
      expect(tokensSent()).toEqual(["Bearer token-1", "Bearer token-2"])
      issued = 10
      // Two calls at once: the second waits for the first's permit. The first is refused 601.
      const h2 = yield* harness(
        (s, n) => (isIdentity(s) ? tokenAnswer(3600, `token-${++issued}`) : n === 2 ? fail("601", "Access token invalid") : folders),
        {},
        true
      )
      yield* h2.api.findFolders("warm")
      yield* Effect.all([h2.api.findFolders("a"), h2.api.findFolders("b")], { concurrency: "unbounded" })
      const sent = h2.apiCalls().map((c) => c.headers["authorization"])
      // token-11 warms up, is refused on the 2nd call; every call after carries token-12.
      expect(sent).toEqual(["Bearer token-11", "Bearer token-11", "Bearer token-12", "Bearer token-12"])
      expect(h2.identityCalls()).toBe(2)
    }))

  it.effect("on 601/602: drops the token, refreshes once and retries once; a second refusal is an auth error", () =>
    Effect.gen(function*() {
      let issued = 0
      const once = yield* harness((s, n) => (isIdentity(s) ? tokenAnswer(3600, `token-${++issued}`) : n === 1 ? fail("602", "Access token expired") : folders))
      expect(yield* once.api.findFolders("x")).toHaveLength(1)
      expect(once.identityCalls()).toBe(2)
      expect(once.apiCalls().map((c) => c.headers["authorization"])).toEqual(["Bearer token-1", "Bearer token-2"])

      const always = yield* harness((s) => (isIdentity(s) ? tokenAnswer() : fail("601", "Access token invalid")))
      const r = yield* Effect.either(always.record(always.api.findFolders("x")))
      expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoAuthError", code: "601" })
      expect(always.identityCalls()).toBe(2)
      expect(always.apiCalls()).toHaveLength(2)
    }))
})

describe("retries on the TestClock", () => {
  it.effect("604 then success: the second try waits for the backoff (1 s with jitter)", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken((_, n) => (n === 1 ? fail("604", "Request timed out") : folders)))
      const fiber = yield* Effect.fork(h.api.findFolders("x"))
      yield* TestClock.adjust("700 millis")
      expect(h.apiCalls()).toHaveLength(1)
      yield* TestClock.adjust("600 millis")
      expect(h.apiCalls()).toHaveLength(2)
      expect(yield* Fiber.join(fiber)).toHaveLength(1)
      expect(h.permits()).toBe(2)
    }))

  it.effect("a 606 storm: four tries at growing intervals, each signalled to the limiter, then MarketoRateLimited", () =>
    Effect.gen(function*() {
      const times: Array<number> = []
      const h = yield* harness(withToken(() =>
        Effect.as(Effect.flatMap(TestClock.currentTimeMillis, (t) => Effect.sync(() => void times.push(t))), fail("606", "Max rate limit '100' exceeded with in '20' secs"))
      ))
      const fiber = yield* Effect.fork(Effect.either(h.record(h.api.findFolders("x"))))
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoRateLimited", code: "606", retryAfterMillis: 20_000 })
      expect(h.apiCalls()).toHaveLength(4)
      expect(h.signals).toEqual(["606", "606", "606", "606"])
      const gaps = times.slice(1).map((t, i) => t - times[i]!)
      expect(gaps).toHaveLength(3)
      gaps.forEach((gap, i) => {
        expect(gap).toBeGreaterThanOrEqual(0.8 * 1000 * 2 ** i)
        expect(gap).toBeLessThanOrEqual(1.2 * 1000 * 2 ** i)
      })
    }))

  it.effect("615, 608, 611, 614, 713, 719, 1016, 1019, 1029, HTTP 502 and a dropped connection are retried", () =>
    Effect.gen(function*() {
      const firsts: ReadonlyArray<Answer> = [
        ...["615", "608", "611", "614", "713", "719", "1016", "1019", "1029"].map((c) => fail(c)),
        { status: 502, text: "<html>Bad Gateway</html>", contentType: "text/html" },
        "drop"
      ]
      for (const first of firsts) {
        const h = yield* harness(withToken((_, n) => (n === 1 ? first : folders)))
        const fiber = yield* Effect.fork(h.api.findFolders("x"))
        yield* TestClock.adjust("5 seconds")
        expect(yield* Fiber.join(fiber)).toHaveLength(1)
        expect(h.apiCalls()).toHaveLength(2)
      }
    }))

  it.effect("an answer that never comes times out as transient, and is retried within bounds", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => "hang"), { requestTimeoutMillis: 10_000 })
      const fiber = yield* Effect.fork(Effect.either(h.record(h.api.findFolders("x"))))
      yield* TestClock.adjust("2 minutes")
      const r = yield* Fiber.join(fiber)
      expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoTransient", code: "timeout" })
      expect(h.apiCalls()).toHaveLength(4)
    }))

  it.effect("an unknown code is retried a bounded number of times, then surfaced with its code", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => fail("799", "Something new")))
      const fiber = yield* Effect.fork(Effect.either(h.record(h.api.findFolders("x"))))
      yield* TestClock.adjust("1 minute")
      const r = yield* Fiber.join(fiber)
      expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoUnknownError", code: "799", message: "Something new" })
      expect(h.apiCalls()).toHaveLength(4)
    }))

  it.effect("never retried: rejected codes, HTTP 413/414, 603 and 607 (607 pauses the instance)", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Answer, string, string]> = [
        ...["605", "609", "610", "612", "613", "616", "701", "702", "703", "709", "710", "711", "1013"].map((c) => [fail(c), "MarketoRejected", c] as const),
        [{ status: 413, text: "Request Entity Too Large", contentType: "text/plain" }, "MarketoRejected", "HTTP 413"],
        [{ status: 414, text: "Request-URI Too Long", contentType: "text/plain" }, "MarketoRejected", "HTTP 414"],
        [fail("603", "Access denied"), "MarketoAuthError", "603"],
        [fail("607", "Daily quota reached"), "MarketoQuotaExhausted", "607"]
      ]
      for (const [answer, tag, code] of cases) {
        const h = yield* harness(withToken(() => answer))
        const fiber = yield* Effect.fork(Effect.either(h.record(h.api.findFolders("x"))))
        yield* TestClock.adjust("1 minute")
        const r = yield* Fiber.join(fiber)
        expect(Either.getLeft(r).pipe(Option.getOrThrow), code).toMatchObject({ _tag: tag, code })
        expect(h.apiCalls(), code).toHaveLength(1)
        expect(h.signals, code).toEqual(code === "607" ? ["607"] : [])
      }
    }))

  it.effect("more than 300 records are refused before any call", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => ok([])))
      const many = Array.from({ length: 301 }, (_, i) => `u${i}@example.com` as Email)
      const r = yield* Effect.either(h.record(h.api.lookupLeads(many)))
      expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoRejected", code: "batch" })
      expect(h.seen).toHaveLength(0)
    }))
})

describe("settings", () => {
  const read = (env: Record<string, string>) =>
    Effect.either(Effect.withConfigProvider(marketoConfig, ConfigProvider.fromMap(new Map(Object.entries(env)))))

  it.effect("reads the endpoint (normalised), the client id, the secret as Redacted, and the folder", () =>
    Effect.gen(function*() {
      const values = Either.getOrThrow(yield* read({
        MARKETO_ENDPOINT: "https://123-ABC-456.mktorest.com/rest/",
        MARKETO_CLIENT_ID: "id",
        MARKETO_CLIENT_SECRET: SECRET
      }))
      expect(values.baseUrl).toBe("https://123-abc-456.mktorest.com")
      expect(values.folderName).toBe("Engage Audiences")
      expect(Redacted.value(values.clientSecret)).toBe(SECRET)
      expect(String(values.clientSecret)).not.toContain(SECRET)
      expect(JSON.stringify(values)).not.toContain(SECRET)
    }))

  it.effect("names the setting that is missing or wrong, never the secret", () =>
    Effect.gen(function*() {
      const badEndpoint = yield* read({ MARKETO_ENDPOINT: "ftp://x.example.com", MARKETO_CLIENT_ID: "id", MARKETO_CLIENT_SECRET: SECRET })
      const noSecret = yield* read({ MARKETO_ENDPOINT: "https://x.mktorest.com", MARKETO_CLIENT_ID: "id" })
      expect(String(Either.getLeft(badEndpoint).pipe(Option.getOrThrow))).toContain("MARKETO_ENDPOINT must start with https://")
      expect(String(Either.getLeft(noSecret).pipe(Option.getOrThrow))).toContain("MARKETO_CLIENT_SECRET")
      for (const r of [badEndpoint, noSecret]) expect(String(Either.getLeft(r).pipe(Option.getOrThrow))).not.toContain(SECRET)
    }))
})

describe("secrets", () => {
  it.effect("no error produced in this file shows the client secret or a token, in any string form", () =>
    Effect.sync(() => {
      expect(producedErrors.length).toBeGreaterThan(20)
      for (const error of producedErrors) {
        const forms = [String(error), JSON.stringify(error), (error as Error).message, Cause.pretty(Cause.fail(error)), JSON.stringify(Exit.fail(error))]
        for (const form of forms) {
          expect(form).not.toContain(SECRET)
          expect(form).not.toContain(TOKEN)
        }
      }
    }))
})
