// Answers lost after Marketo may have run the call: the client sends again only what is safe to
// run twice. A bulk import or a list's creation whose answer is lost (connection, 5xx, not JSON,
// timeout) surfaces as MarketoAnswerLost after one try; refusals in the envelope (nothing ran) are
// retried for every call; upserts, membership changes, lookups and polls are retried after a lost
// answer as before. Also: membership checks (ismember) and an import's warnings, read as data.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Option, TestClock } from "effect"
import type { FolderId, ImportBatchId, LeadId, ListId } from "../../core/1-events/Ids.js"
import { type Answer, emails, fail, harness, ok, withToken } from "./ScriptedHarness.js"

const lostAnswers: ReadonlyArray<readonly [string, Answer]> = [
  ["a dropped connection", "drop"],
  ["HTTP 502", { status: 502, text: "<html>Bad Gateway</html>", contentType: "text/html" }],
  ["an answer that is not JSON", { status: 200, text: "<html>oops</html>", contentType: "text/html" }],
  ["no answer (timeout)", "hang"]
]

const created = ok([{ id: 77, name: "L", folder: { id: 1034, type: "Folder" }, createdAt: "x", updatedAt: "x", url: "u", workspace: "Default" }])
const queued = ok([{ batchId: 9, importId: "9", status: "Queued" }])

describe("answers lost after the call may have run", () => {
  it.effect("an import or a list's creation is sent once, and surfaces MarketoAnswerLost for each kind of lost answer", () =>
    Effect.gen(function*() {
      for (const [, lost] of lostAnswers) {
        const h = yield* harness(withToken(() => lost), { requestTimeoutMillis: 10_000 })
        const importing = yield* Effect.fork(Effect.either(h.record(h.api.importLeads(3 as ListId, emails("a@example.com")))))
        const creating = yield* Effect.fork(Effect.either(h.record(h.api.createStaticList("L", 1034 as FolderId))))
        yield* TestClock.adjust("1 minute")
        expect(Either.getLeft(yield* Fiber.join(importing)).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoAnswerLost" })
        expect(Either.getLeft(yield* Fiber.join(creating)).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoAnswerLost" })
        expect(h.apiCalls().map((s) => s.url.pathname).sort()).toEqual(["/bulk/v1/leads.json", "/rest/asset/v1/staticLists.json"])
      }
    }))

  it.effect("the codes are kept: network, HTTP 502, timeout", () =>
    Effect.gen(function*() {
      const codes: Array<string> = []
      for (const [, lost] of lostAnswers) {
        const h = yield* harness(withToken(() => lost), { requestTimeoutMillis: 10_000 })
        const fiber = yield* Effect.fork(Effect.either(h.api.importLeads(3 as ListId, emails("a@example.com"))))
        yield* TestClock.adjust("1 minute")
        const error = Either.getLeft(yield* Fiber.join(fiber)).pipe(Option.getOrThrow)
        codes.push("code" in error ? error.code : error._tag)
      }
      expect(codes).toEqual(["network", "HTTP 502", "HTTP 200", "timeout"])
    }))

  it.effect("refusals in the envelope mean nothing ran: an import is sent again after 1016, 1019, 606 or 611", () =>
    Effect.gen(function*() {
      for (const code of ["1016", "1019", "606", "611"]) {
        const h = yield* harness(withToken((_, n) => (n === 1 ? fail(code) : queued)))
        const fiber = yield* Effect.fork(h.api.importLeads(3 as ListId, emails("a@example.com")))
        yield* TestClock.adjust("5 seconds")
        expect(yield* Fiber.join(fiber)).toEqual([{ batchId: 9 }])
        expect(h.apiCalls()).toHaveLength(2)
      }
      const h = yield* harness(withToken((_, n) => (n === 1 ? fail("604") : created)))
      const fiber = yield* Effect.fork(h.api.createStaticList("L", 1034 as FolderId))
      yield* TestClock.adjust("5 seconds")
      expect((yield* Fiber.join(fiber)).id).toBe(77)
    }))

  it.effect("calls safe to repeat are sent again after a lost answer: upsert, add, remove, lookup, import status", () =>
    Effect.gen(function*() {
      const calls: ReadonlyArray<readonly [string, Answer, (h: Effect.Effect.Success<ReturnType<typeof harness>>) => Effect.Effect<unknown, unknown>]> = [
        ["upsert", ok([{ id: 1, status: "created" }]), (h) => h.api.upsertLeads(emails("a@example.com"))],
        ["add", ok([{ id: 1, status: "added" }]), (h) => h.api.addToList(3 as ListId, [1 as LeadId])],
        ["remove", ok([{ id: 1, status: "removed" }]), (h) => h.api.removeFromList(3 as ListId, [1 as LeadId])],
        ["lookup", ok([{ id: 1, email: "a@example.com" }]), (h) => h.api.lookupLeads(emails("a@example.com"))],
        ["status", ok([{ batchId: 9, status: "Complete", numOfLeadsProcessed: 1, numOfRowsFailed: 0, numOfRowsWithWarning: 0 }]), (h) => h.api.importStatus(9 as ImportBatchId)]
      ]
      for (const [, answer, run] of calls) {
        for (const [, lost] of lostAnswers.slice(0, 2)) {
          const h = yield* harness(withToken((_, n) => (n === 1 ? lost : answer)))
          const fiber = yield* Effect.fork(run(h))
          yield* TestClock.adjust("5 seconds")
          yield* Fiber.join(fiber)
          expect(h.apiCalls()).toHaveLength(2)
        }
      }
    }))
})

describe("membership checks and import warnings", () => {
  it.effect("asks ismember with repeated ids and answers the leads that are members", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() =>
        ok([{ id: 1, status: "memberof" }, { id: 2, status: "notmemberof" }, { id: 3, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }])
      ))
      expect(yield* h.api.listHasLeads(5 as ListId, [1, 2, 3] as Array<LeadId>)).toEqual([1])
      const [seen] = h.apiCalls()
      expect(seen?.method).toBe("GET")
      expect(seen?.url.pathname).toBe("/rest/v1/lists/5/leads/ismember.json")
      expect(seen?.url.searchParams.getAll("id")).toEqual(["1", "2", "3"])
      expect(yield* h.api.listHasLeads(5 as ListId, [])).toEqual([])
      expect(h.apiCalls()).toHaveLength(1)
    }))

  it.effect("reads an import's warnings CSV like its failures", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() => ({ text: "email,Import Warning Reason\r\ntwin@example.com,Multiple lead match lookup criteria\r\n", contentType: "text/csv" })))
      expect(yield* h.api.importWarnings(9 as ImportBatchId)).toEqual([{ email: "twin@example.com", reason: "Multiple lead match lookup criteria" }])
      expect(h.apiCalls()[0]?.url.pathname).toBe("/bulk/v1/leads/batch/9/warnings.json")
    }))
})
