// Client suite cases on payloads and imports: 300 of the longest emails per call without 413 or
// 414, imports that complete and that fail, and the split of an import over 10 MB.
import { Effect, Either, Stream } from "effect"
import { expect, it } from "vitest"
import type { Email } from "../../core/1-events/Email.js"
import type { FolderId } from "../../core/1-events/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import type { ClientSuiteContext } from "./ClientSuiteContext.js"

export const importCases = (ctx: ClientSuiteContext) => {
  const { run, emails, outcomes } = ctx

  it("never meets 413 or 414 with 300 of the longest emails in every batched call", async () => {
    // 64-character local part and a long domain: 254 characters, the most an address can hold.
    const longest = Array.from({ length: 300 }, (_, i) => `${String(i).padStart(3, "0")}${"x".repeat(61)}@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(57)}.com` as Email)
    expect(longest[0]!.length).toBe(254)
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList("longest", 1034 as FolderId)
      const upserted = yield* m.upsertLeads(longest)
      const ids = upserted.flatMap((u) => (u.status === "skipped" ? [] : [u.leadId]))
      const found = yield* m.lookupLeads(longest)
      const added = yield* m.addToList(list.id, ids)
      const removed = yield* m.removeFromList(list.id, ids)
      return { upserted, found, added, removed }
    })))
    expect(r.upserted.every((u) => u.status === "created")).toBe(true)
    expect(r.found.every((f) => f.leadIds.length === 1)).toBe(true)
    expect(r.added.every((a) => a.status === "added")).toBe(true)
    expect(r.removed.every((a) => a.status === "removed")).toBe(true)
    expect(outcomes()["HTTP 413"]).toBeUndefined()
    expect(outcomes()["HTTP 414"]).toBeUndefined()
  })

  it("imports with listId, polls to Complete, and reports an import that ends Failed", async () => {
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList("imported", 1034 as FolderId)
      const [job] = yield* m.importLeads(list.id, ["x1@example.com", "x2@example.com", "has,comma\"quote@example.com"] as Array<Email>)
      const status = yield* m.importStatus(job!.batchId)
      const failures = yield* m.importFailures(job!.batchId)
      const [bad] = yield* m.importLeads(list.id, ["fail-import@example.com"] as Array<Email>)
      const failed = yield* m.importStatus(bad!.batchId)
      const failedRows = yield* m.importFailures(bad!.batchId)
      return { status, failures, failed, failedRows }
    })))
    expect(r.status).toMatchObject({ status: "Complete", leadsProcessed: 3, rowsFailed: 0 })
    expect(r.failures).toEqual([])
    expect(r.failed.status).toBe("Failed")
    expect(r.failed.message).toMatch(/failed/i)
    // The sandbox fails the whole file, so there are no per-row failures to report.
    expect(r.failedRows).toEqual([])
    expect(ctx.server.sandbox.members("imported")).toEqual(["has,comma\"quote@example.com", "x1@example.com", "x2@example.com"])
  })

  it("splits imports over 10 MB into several files instead of meeting 413", async () => {
    const many = emails(420_000, "bulk-import-address-number-")
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList("big-import", 1034 as FolderId)
      return yield* m.importLeads(list.id, many)
    })))
    expect(r.length).toBe(2)
    expect(outcomes()["HTTP 413"]).toBeUndefined()
  }, 60_000)

  it("imports a file whose body is streamed part by part (a staged file), fields and quoting intact", async () => {
    // Three parts as a staged file keeps them, the header first: about 3 MB, never one string here.
    const header = "email,firstName\r\n"
    const part = (p: number) => Array.from({ length: 30_000 }, (_, i) => `streamed-${p}-${i}@example.com,"Name, ${p}"\r\n`).join("")
    const parts = [header, part(0), part(1), part(2)]
    const bytes = parts.reduce((n, text) => n + new TextEncoder().encode(text).length, 0)
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList("streamed-import", 1034 as FolderId)
      const job = yield* m.importCsv(list.id, { bytes, body: Stream.fromIterable(parts) })
      return yield* m.importStatus(job.batchId)
    })))
    expect(r).toMatchObject({ status: "Complete", leadsProcessed: 90_000, rowsFailed: 0 })
    const members = ctx.server.sandbox.members("streamed-import")
    expect(members).toHaveLength(90_000)
    expect(members).toContain("streamed-2-29999@example.com")
    const lead = ctx.server.sandbox.snapshot().leads.find((l) => l.email === "streamed-1-7@example.com")
    expect(lead?.fields).toMatchObject({ firstName: "Name, 1" })
  }, 60_000)

  it("a streamed body that fails midway is an answer lost (never sent again blindly) that says why", async () => {
    const parts = Stream.concat(Stream.make("email\r\n", "a@example.com\r\n"), Stream.dieMessage("staged part 1 is missing"))
    const r = await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList("broken-stream", 1034 as FolderId)
      return yield* m.importCsv(list.id, { bytes: 1_000, body: parts })
    }))
    expect(Either.isLeft(r)).toBe(true)
    const error = (r as Either.Left<{ readonly _tag: string; readonly message: string }, unknown>).left
    expect(error._tag).toBe("MarketoAnswerLost")
    // The fetch says only that it failed: why is in its cause's cause, which the message carries.
    expect(error.message).toMatch(/^the request to Marketo did not complete \(RequestError Transport: .*staged part 1 is missing\)$/)
    expect(ctx.server.sandbox.members("broken-stream")).toEqual([])
  }, 60_000)
}
