// The Marketo client's requests on the wire, against a scripted HttpClient: the token asked with a
// form body and sent as a Bearer header only, each call under a permit, and the exact form, query,
// multipart file and paging of each call.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Email } from "../../core/1-events/Email.js"
import type { FolderId, ListId } from "../../core/1-events/Ids.js"
import { MarketoLimits } from "../../core/marketo/MarketoLimits.js"
import { emails, folders, harness, ok, SECRET, TOKEN, withToken } from "./ScriptedHarness.js"

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
