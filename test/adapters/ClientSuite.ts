// The Marketo client against the sandbox server on 127.0.0.1 (real fetch, random port): every
// port method and every error class. Registered by MarketoClient.test.ts, and by
// Conformance.test.ts with a recorder, so the conformance check sees this whole run.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Cause, Effect, Either, Exit, Layer, Option, Redacted } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import { normalizeEndpoint } from "../../adapters/marketo/Endpoint.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/Email.js"
import type { FolderId, LeadId, ListId } from "../../core/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import type { SandboxConfig } from "../sandbox/SandboxConfig.js"
import type { SandboxRequest, SandboxResponse } from "../sandbox/SandboxModel.js"
import { type SandboxServer, startSandboxServer } from "../sandbox/server.js"

export type Recorder = (request: SandboxRequest, response: SandboxResponse) => void

const SECRET = "local-client-secret"
const WRONG_SECRET = "wrong-secret-value-93ab"

export const clientSuite = (record: Recorder = () => {}) => {
  let server: SandboxServer
  const servers: Array<SandboxServer> = []
  const signals: Array<string> = []
  let permits = 0
  /** Every token the sandbox issued and every error the client produced, for the secrets check. */
  const issuedTokens = new Set<string>()
  const producedErrors: Array<unknown> = []

  const start = async (config: Partial<SandboxConfig> = {}) => {
    const s = await startSandboxServer({
      port: 0,
      host: "127.0.0.1",
      config,
      onExchange: (request, response) => {
        record(request, response)
        if (request.url.startsWith("/identity/") && response.status === 200) issuedTokens.add((JSON.parse(response.body) as { access_token: string }).access_token)
      }
    })
    servers.push(s)
    return s
  }

  /** Lets every call through, counting permits and keeping the signals. */
  const passThrough = Layer.succeed(RateLimiter, {
    withPermit: (self) => Effect.suspend(() => (permits++, self)),
    signal: (s) => Effect.sync(() => void signals.push(s.code)),
    status: Effect.die("not used")
  })

  const clientLayer = (options: { url?: string; clientSecret?: string; limiter?: Layer.Layer<RateLimiter> } = {}) =>
    MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
      FetchHttpClient.layer,
      options.limiter ?? passThrough,
      TokenStore.layerMemory,
      MarketoConfig.layer({
        baseUrl: options.url ?? server.url,
        clientId: "local-client-id",
        clientSecret: Redacted.make(options.clientSecret ?? SECRET),
        retryBaseMillis: 5
      })
    )))

  const run = <A, E>(effect: Effect.Effect<A, E, MarketoApi>, layer = clientLayer()) =>
    Effect.runPromise(Effect.either(effect.pipe(
      Effect.tapError((e) => Effect.sync(() => void producedErrors.push(e))),
      Effect.provide(layer)
    )))
  const left = <A, E>(r: Either.Either<A, E>) => Either.getLeft(r).pipe(Option.getOrThrow)
  const emails = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com` as Email)
  const outcomes = () => server.sandbox.counters().byOutcome
  const control = (route: string, body: unknown) =>
    fetch(`${server.url}/__sandbox/${route}`, { method: "POST", body: JSON.stringify(body) }).then((r) => r.json())

  beforeAll(async () => {
    server = await start({ duplicateEmails: ["twin@example.com"], importQueuedMillis: 0, importRunningMillis: 0, failImportsContaining: "fail-import@example.com" })
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })
  beforeEach(async () => {
    signals.length = 0
    permits = 0
    await control("faults", { rules: [] })
  })

  describe("Marketo client against the sandbox", () => {
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
      expect(permits).toBe(1)
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
      const lookups = server.sandbox.log.filter((c) => c.path === "/rest/v1/leads.json").slice(-2)
      expect(lookups.map((c) => c.method)).toEqual(["GET", "POST"])
      expect(outcomes()["HTTP 414"]).toBeUndefined()
    })

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
      expect(server.sandbox.members("imported")).toEqual(["has,comma\"quote@example.com", "x1@example.com", "x2@example.com"])
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

    it("refreshes the token once when it expires mid-run (sandbox clock) or is revoked, never one per call", async () => {
      const identityCalls = () => server.sandbox.log.filter((c) => c.path === "/identity/oauth/token").length
      const expired = () => server.sandbox.log.filter((c) => c.outcome === "602").length
      const [calls0, expired0] = [identityCalls(), expired()]
      const r = await run(Effect.gen(function*() {
        const m = yield* MarketoApi
        yield* m.findFolders("Engage Audiences")
        yield* m.findFolders("Engage Audiences")
        yield* Effect.promise(() => control("clock", { advanceMillis: 3_600_000 }))
        yield* m.findFolders("Engage Audiences")
        yield* m.findFolders("Engage Audiences")
        yield* Effect.promise(() => control("revoke-tokens", {}))
        yield* m.findFolders("Engage Audiences")
        yield* m.findFolders("Engage Audiences")
      }))
      expect(Either.isRight(r)).toBe(true)
      // One token at the start, one after expiry (602), one after revocation (601).
      expect(identityCalls() - calls0).toBe(3)
      expect(expired() - expired0).toBe(1)
    })

    it("rides out 606 and 615 storms and a 604, signalling the limiter on 606/615", async () => {
      for (const kind of ["606", "615", "604"] as const) {
        await control("faults", { rules: [{ kind, count: 3, pathPrefix: "/rest/asset" }] })
        const r = await run(Effect.flatMap(MarketoApi, (m) => m.findFolders("Engage Audiences")))
        expect(Either.isRight(r), kind).toBe(true)
      }
      expect(signals).toEqual(["606", "606", "606", "615", "615", "615"])
      expect(permits).toBe(12)
    })

    it("retries 608, 611, HTTP 502 and dropped connections", async () => {
      for (const kind of ["608", "611", "502", "drop"] as const) {
        await control("faults", { rules: [{ kind, count: 2, pathPrefix: "/rest/v1" }] })
        const r = await run(Effect.flatMap(MarketoApi, (m) => m.lookupLeads(["a@example.com"] as Array<Email>)))
        expect(Either.getOrThrow(r)[0]?.leadIds, kind).toHaveLength(1)
      }
    })

    it("gives up after bounded retries of a storm, with a tagged error: 606 → MarketoRateLimited, 604 → MarketoTransient", async () => {
      await control("faults", { rules: [{ kind: "606", rate: 1 }] })
      const rate = await run(Effect.flatMap(MarketoApi, (m) => m.findFolders("Engage Audiences")))
      expect(left(rate)).toMatchObject({ _tag: "MarketoRateLimited", code: "606" })
      expect(permits).toBe(4)
      await control("faults", { rules: [{ kind: "604", rate: 1 }] })
      const slow = await run(Effect.flatMap(MarketoApi, (m) => m.findFolders("Engage Audiences")))
      expect(left(slow)).toMatchObject({ _tag: "MarketoTransient", code: "604" })
      expect(permits).toBe(8)
    })

    it("stops at once on 607, and signals it", async () => {
      const quota = await start({ dailyQuota: 1 })
      const r = await run(
        Effect.flatMap(MarketoApi, (m) => Effect.zipRight(m.findFolders("Engage Audiences"), m.findFolders("Engage Audiences"))),
        clientLayer({ url: quota.url })
      )
      expect(left(r)).toMatchObject({ _tag: "MarketoQuotaExhausted", code: "607" })
      expect(signals).toEqual(["607"])
      expect(permits).toBe(2)
    })

    it("surfaces a code outside the table as MarketoUnknownError after bounded retries", async () => {
      // A sandbox that takes 2 records per call answers 1003, which the code table does not name.
      const small = await start({ batchSize: 2 })
      const r = await run(Effect.flatMap(MarketoApi, (m) => m.upsertLeads(emails(3, "small"))), clientLayer({ url: small.url }))
      expect(left(r)).toMatchObject({ _tag: "MarketoUnknownError", code: "1003" })
      expect(permits).toBe(4)
    })

    it("names the settings to fix on bad credentials, without asking again per call", async () => {
      const before = server.sandbox.log.filter((c) => c.path === "/identity/oauth/token").length
      const r = await Effect.runPromiseExit(Effect.flatMap(MarketoApi, (m) => m.findFolders("x")).pipe(
        Effect.tapError((e) => Effect.sync(() => void producedErrors.push(e))),
        Effect.provide(clientLayer({ clientSecret: WRONG_SECRET }))
      ))
      expect(Exit.isFailure(r)).toBe(true)
      const text = Cause.pretty((r as Exit.Failure<unknown, unknown>).cause)
      expect(text).toMatch(/check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET/)
      expect(server.sandbox.log.filter((c) => c.path === "/identity/oauth/token").length - before).toBe(1)
      expect(permits).toBe(0)
    })

    it("refuses more than 300 ids before calling", async () => {
      const r = await run(Effect.flatMap(MarketoApi, (m) => m.addToList(1 as ListId, Array.from({ length: 301 }, (_, i) => (i + 1) as LeadId))))
      expect(left(r)).toMatchObject({ _tag: "MarketoRejected", code: "batch" })
      expect(permits).toBe(0)
    })

    it("under RateLimiter.layerMemory, 40 concurrent calls meet no 606 or 615", async () => {
      const busy = await start({ latencyMillis: 20 })
      const r = await run(
        Effect.flatMap(MarketoApi, (m) => Effect.all(Array.from({ length: 40 }, () => m.findFolders("Engage Audiences")), { concurrency: "unbounded" })),
        clientLayer({ url: busy.url, limiter: RateLimiter.layerMemory({ callsPerWindow: 50, maxConcurrency: 5 }) })
      )
      expect(Either.getOrThrow(r)).toHaveLength(40)
      const seen = busy.sandbox.counters().byOutcome
      expect(busy.sandbox.log.filter((c) => c.path !== "/identity/oauth/token" && c.outcome === "ok")).toHaveLength(40)
      expect(seen["606"] ?? 0).toBe(0)
      expect(seen["615"] ?? 0).toBe(0)
      expect(busy.sandbox.log.filter((c) => c.path === "/identity/oauth/token")).toHaveLength(1)
    })

    it("no error of this run shows the client secret or any issued token, in any string form", () => {
      expect(producedErrors.length).toBeGreaterThanOrEqual(8)
      expect(issuedTokens.size).toBeGreaterThanOrEqual(3)
      for (const error of producedErrors) {
        const forms = [String(error), JSON.stringify(error), (error as Error).message, Cause.pretty(Cause.fail(error)), JSON.stringify(Exit.fail(error))]
        for (const form of forms) {
          for (const secret of [SECRET, WRONG_SECRET, ...issuedTokens]) expect(form).not.toContain(secret)
        }
      }
    })
  })

  describe("normalizeEndpoint", () => {
    it("accepts the admin page's form, with or without /rest and slashes", () => {
      for (const raw of ["https://123-ABC-456.mktorest.com", "https://123-ABC-456.mktorest.com/", "https://123-abc-456.mktorest.com/rest", " https://123-ABC-456.mktorest.com/rest/ ", "http://127.0.0.1:8788"]) {
        expect(Either.isRight(normalizeEndpoint(raw)), raw).toBe(true)
      }
      expect(normalizeEndpoint("https://123-ABC-456.mktorest.com/rest/")).toEqual(Either.right("https://123-abc-456.mktorest.com"))
    })
    it("explains what is wrong", () => {
      expect(normalizeEndpoint("123-ABC-456.mktorest.com")).toEqual(Either.left("MARKETO_ENDPOINT \"123-ABC-456.mktorest.com\" is not a URL (expected e.g. https://123-ABC-456.mktorest.com/rest)"))
      expect(normalizeEndpoint("ftp://x.example.com")).toEqual(Either.left("MARKETO_ENDPOINT must start with https:// (or http:// for a local sandbox), not ftp://"))
      expect(normalizeEndpoint("https://x.mktorest.com/soap/mktows/3")._tag).toBe("Left")
      expect(normalizeEndpoint("https://user:pw@x.mktorest.com")._tag).toBe("Left")
    })
  })
}
