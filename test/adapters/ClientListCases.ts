// Client suite cases on lists, members and leads: the folder and list calls with 709 and 710,
// membership with per-record outcomes (1004, 1015), member paging, and lookups by GET or POST.
import { Effect, Either, Option } from "effect"
import { expect, it } from "vitest"
import type { Email } from "../../core/1-events/Email.js"
import type { FolderId, LeadId, ListId } from "../../core/1-events/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import type { ClientSuiteContext } from "./ClientSuiteContext.js"

export const listCases = (ctx: ClientSuiteContext) => {
  const { run, left, emails, outcomes, producedErrors } = ctx

  it("finds the folder, creates a list, refuses a duplicate name with 709, finds the list by name", async () => {
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const folders = yield* m.findFolders("Engage Audiences")
      const list = yield* m.createStaticList("client-test", folders[0]!.id)
      const again = yield* Effect.either(m.createStaticList("client-test", folders[0]!.id))
      const found = yield* m.findStaticList("client-test")
      const missing = yield* m.findStaticList("no such list")
      const byId = yield* m.getStaticList(list.id)
      const noId = yield* m.getStaticList(987_654 as ListId)
      const noFolder = yield* m.findFolders("Nope")
      return { folders, list, again, found, missing, byId, noId, noFolder }
    })))
    expect(r.folders).toEqual([{ id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }])
    expect(r.list).toMatchObject({ name: "client-test", folderId: 1034 })
    const duplicate = left(r.again)
    producedErrors.push(duplicate)
    expect(duplicate).toMatchObject({ _tag: "MarketoRejected", code: "709" })
    expect(Option.getOrThrow(r.found).id).toBe(r.list.id)
    expect(Option.isNone(r.missing)).toBe(true)
    // By id, with the folder it is in (how a list the sender names is checked).
    expect(r.byId).toEqual(Option.some({ id: r.list.id, name: "client-test", folderId: 1034 }))
    expect(Option.isNone(r.noId)).toBe(true)
    expect(r.noFolder).toEqual([])
  })

  it("reports 710 for an unknown folder, without retrying", async () => {
    const r = await run(Effect.flatMap(MarketoApi, (m) => m.createStaticList("x", 999 as FolderId)))
    expect(left(r)).toMatchObject({ _tag: "MarketoRejected", code: "710" })
    expect(ctx.permits).toBe(1)
  })

  it("upserts, adds, removes, and reads members, with per-record outcomes as data (1004, 1015)", async () => {
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList("membership", 1034 as FolderId)
      const upserted = yield* m.upsertLeads(["a@example.com", "b@example.com", "twin@example.com"] as Array<Email>)
      const ids = upserted.flatMap((u) => (u.status === "skipped" ? [] : [u.leadId]))
      const added = yield* m.addToList(list.id, [...ids, 999_999 as LeadId])
      const members = yield* m.listMembers(list.id)
      const removed = yield* m.removeFromList(list.id, [ids[0]!, ids[0]!, 999_999 as LeadId])
      const after = yield* m.listMembers(list.id)
      return { upserted, added, members, removed, after }
    })))
    expect(r.upserted.map((u) => u.status)).toEqual(["created", "created", "skipped"])
    expect(r.upserted[2]).toMatchObject({ email: "twin@example.com", reasons: [{ code: "1007" }] })
    expect(r.added.map((a) => a.status)).toEqual(["added", "added", "skipped"])
    expect(r.added[2]?.reasons?.[0]?.code).toBe("1004")
    expect(r.members.members.map((x) => x.email).sort()).toEqual(["a@example.com", "b@example.com"])
    expect(r.removed.map((x) => x.status)).toEqual(["removed", "notMember", "skipped"])
    expect(r.removed[1]?.reasons?.[0]?.code).toBe("1015")
    expect(r.removed[2]?.reasons?.[0]?.code).toBe("1004")
    expect(r.after.members.map((x) => x.email)).toEqual(["b@example.com"])
  })

  it("pages through a list's members with nextPageToken until the last page", async () => {
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList("paged", 1034 as FolderId)
      const upserted = yield* m.upsertLeads(emails(300, "paged"))
      const more = yield* m.upsertLeads(emails(50, "paged-more"))
      const ids = [...upserted, ...more].flatMap((u) => (u.status === "skipped" ? [] : [u.leadId]))
      yield* m.addToList(list.id, ids.slice(0, 300))
      yield* m.addToList(list.id, ids.slice(300))
      const pages: Array<number> = []
      let token: string | undefined
      do {
        const page = yield* m.listMembers(list.id, token)
        pages.push(page.members.length)
        token = page.nextPageToken
      } while (token !== undefined)
      return pages
    })))
    expect(r.reduce((a, b) => a + b, 0)).toBe(350)
    expect(r[0]).toBe(300)
  })

  it("finds 0, 1 or several leads per email, case-insensitively, by GET or by POST when the URL would pass 8 KB", async () => {
    const long = emails(300, "a-rather-long-local-part-for-the-uri-test.")
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      yield* m.upsertLeads(["Found@Example.com"] as Array<Email>)
      const small = yield* m.lookupLeads(["found@example.com", "twin@example.com", "none@example.com"] as Array<Email>)
      const big = yield* m.lookupLeads(long)
      return { small, big }
    })))
    expect(r.small.map((x) => x.leadIds.length)).toEqual([1, 2, 0])
    expect(r.big).toHaveLength(300)
    const lookups = ctx.server.sandbox.log.filter((c) => c.path === "/rest/v1/leads.json").slice(-2)
    expect(lookups.map((c) => c.method)).toEqual(["GET", "POST"])
    expect(outcomes()["HTTP 414"]).toBeUndefined()
  })
}
