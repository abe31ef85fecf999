// The Marketo client against a scripted HttpClient, on the TestClock: results read as data, token
// sharing and refresh, retry timing and the code table, and no error of this file showing a secret
// or token. The requests on the wire and the settings have their own files.
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Fiber, Option, TestClock } from "effect"
import type { Email } from "../../core/1-events/Email.js"
import type { ImportBatchId, LeadId, ListId } from "../../core/1-events/Ids.js"
import { type Answer, emails, fail, folders, harness, isIdentity, ok, producedErrors, SECRET, TOKEN, tokenAnswer, withToken } from "./ScriptedHarness.js"

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
