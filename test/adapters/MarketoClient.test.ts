// The Marketo client against the sandbox server on 127.0.0.1: every port method, every error class.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { Cause, Effect, Either, Exit, Layer, Option, Redacted } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import { normalizeEndpoint } from "../../adapters/marketo/Endpoint.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/Email.js"
import type { FolderId, LeadId, ListId } from "../../core/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import { type SandboxServer, startSandboxServer } from "../sandbox/server.js"

const secret = "local-client-secret"
let server: SandboxServer
const signals: Array<string> = []
let permits = 0

const limiter = Layer.succeed(RateLimiter, {
  withPermit: (self) => Effect.suspend(() => {
    permits++
    return self
  }),
  signal: (s) => Effect.sync(() => void signals.push(s.code)),
  status: Effect.die("not used")
})

const clientLayer = (overrides: { clientSecret?: string } = {}) =>
  MarketoClient.layer.pipe(
    Layer.provide(Layer.mergeAll(
      FetchHttpClient.layer,
      limiter,
      TokenStore.layerMemory,
      MarketoConfig.layer({ baseUrl: server.url, clientId: "local-client-id", clientSecret: Redacted.make(overrides.clientSecret ?? secret), retryBaseMillis: 5 })
    ))
  )

const run = <A, E>(effect: Effect.Effect<A, E, MarketoApi>, layer = clientLayer()) =>
  Effect.runPromise(Effect.either(effect.pipe(Effect.provide(layer))))
const api = MarketoApi
const emails = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com` as Email)
const outcomes = () => server.sandbox.counters().byOutcome

beforeAll(async () => {
  server = await startSandboxServer({ port: 0, config: { duplicateEmails: ["twin@example.com"], importQueuedMillis: 0, importRunningMillis: 0, failImportsContaining: "fail-import@example.com" } })
})
afterAll(() => server.close())
beforeEach(() => {
  signals.length = 0
  permits = 0
  server.sandbox.setFaults([])
})

describe("Marketo client against the sandbox", () => {
  it("finds the folder, creates a list, refuses a duplicate name with 709, finds the list by name", async () => {
    const result = await run(Effect.gen(function*() {
      const m = yield* api
      const folders = yield* m.findFolders("Engage Audiences")
      const list = yield* m.createStaticList("client-test", folders[0]!.id)
      const again = yield* Effect.either(m.createStaticList("client-test", folders[0]!.id))
      const found = yield* m.findStaticList("client-test")
      const missing = yield* m.findStaticList("no such list")
      const noFolder = yield* m.findFolders("Nope")
      return { folders, list, again, found, missing, noFolder }
    }))
    const r = Either.getOrThrow(result)
    expect(r.folders).toEqual([{ id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }])
    expect(r.list).toMatchObject({ name: "client-test", folderId: 1034 })
    expect(Either.getLeft(r.again).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoRejected", code: "709" })
    expect(Option.getOrThrow(r.found).id).toBe(r.list.id)
    expect(Option.isNone(r.missing)).toBe(true)
    expect(r.noFolder).toEqual([])
  })

  it("reports 710 for an unknown folder", async () => {
    const r = await run(Effect.flatMap(api, (m) => m.createStaticList("x", 999 as FolderId)))
    expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoRejected", code: "710" })
  })

  it("upserts, adds, removes, and reads members, with per-record outcomes as data", async () => {
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* api
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
    expect(r.after.members.map((x) => x.email)).toEqual(["b@example.com"])
  })

  it("finds 0, 1 or several leads per email, case-insensitively, by GET or by POST when the URL would pass 8 KB", async () => {
    const long = emails(300, "a-rather-long-local-part-for-the-uri-test.")
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* api
      yield* m.upsertLeads(["Found@Example.com"] as Array<Email>)
      const small = yield* m.lookupLeads(["found@example.com", "twin@example.com", "none@example.com"] as Array<Email>)
      const big = yield* m.lookupLeads(long)
      return { small, big }
    })))
    expect(r.small.map((x) => x.leadIds.length)).toEqual([1, 2, 0])
    expect(r.big).toHaveLength(300)
    expect(outcomes()["HTTP 414"]).toBeUndefined()
  })

  it("imports with listId, polls to Complete, and reports a Failed import", async () => {
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* api
      const list = yield* m.createStaticList("imported", 1034 as FolderId)
      const [job] = yield* m.importLeads(list.id, ["x1@example.com", "x2@example.com", "has,comma\"quote@example.com"] as Array<Email>)
      const status = yield* m.importStatus(job!.batchId)
      const failures = yield* m.importFailures(job!.batchId)
      const [bad] = yield* m.importLeads(list.id, ["fail-import@example.com"] as Array<Email>)
      const failed = yield* m.importStatus(bad!.batchId)
      return { status, failures, failed, list }
    })))
    expect(r.status.status).toBe("Complete")
    expect(r.failures).toEqual([])
    expect(r.failed.status).toBe("Failed")
    expect(server.sandbox.members("imported")).toEqual(["has,comma\"quote@example.com", "x1@example.com", "x2@example.com"])
  })

  it("refreshes the token once when it expires mid-run, never asking for one per call", async () => {
    const identityCalls = () => server.sandbox.log.filter((c) => c.path === "/identity/oauth/token").length
    const before = identityCalls()
    const r = await run(Effect.gen(function*() {
      const m = yield* api
      yield* m.findFolders("Engage Audiences")
      server.clockOffsetMillis += 3_600_000
      yield* m.findFolders("Engage Audiences")
      server.sandbox.revokeTokens()
      yield* m.findFolders("Engage Audiences")
      yield* m.findFolders("Engage Audiences")
    }))
    server.clockOffsetMillis = 0
    expect(Either.isRight(r)).toBe(true)
    // One token at the start, one after expiry (602), one after revocation (601): never one per call.
    expect(identityCalls() - before).toBe(3)
    expect(server.sandbox.log.filter((c) => c.outcome === "602").length).toBe(1)
  })

  it("retries 604, 606, 615, 502 and dropped connections, signalling the limiter on 606/615", async () => {
    for (const kind of ["604", "606", "615", "502", "drop", "608", "611"] as const) {
      server.sandbox.setFaults([{ kind, count: 2, pathPrefix: "/rest/asset" }])
      const r = await run(Effect.flatMap(api, (m) => m.findFolders("Engage Audiences")))
      expect(Either.isRight(r), kind).toBe(true)
    }
    expect(signals).toEqual(["606", "606", "615", "615"])
  })

  it("gives up after bounded retries of a storm, with a tagged error", async () => {
    server.sandbox.setFaults([{ kind: "606", rate: 1 }])
    const r = await run(Effect.flatMap(api, (m) => m.findFolders("Engage Audiences")))
    expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoRateLimited", code: "606" })
    expect(permits).toBe(4)
  })

  it("stops at once on 607 and on a rejected request", async () => {
    const quota = await startSandboxServer({ port: 0, config: { dailyQuota: 1 } })
    const layer = MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(FetchHttpClient.layer, limiter, TokenStore.layerMemory,
      MarketoConfig.layer({ baseUrl: quota.url, clientId: "local-client-id", clientSecret: Redacted.make(secret), retryBaseMillis: 5 }))))
    const r = await run(Effect.flatMap(api, (m) => Effect.zipRight(m.findFolders("Engage Audiences"), m.findFolders("Engage Audiences"))), layer)
    await quota.close()
    expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoQuotaExhausted", code: "607" })
    expect(signals).toEqual(["607"])
  })

  it("names the settings to fix on bad credentials, and never shows a secret", async () => {
    const r = await Effect.runPromiseExit(Effect.flatMap(api, (m) => m.findFolders("x")).pipe(Effect.provide(clientLayer({ clientSecret: "wrong-secret-value" }))))
    expect(Exit.isFailure(r)).toBe(true)
    const text = Cause.pretty((r as Exit.Failure<unknown, unknown>).cause)
    expect(text).toMatch(/check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET/)
    expect(text).not.toContain("wrong-secret-value")
    expect(JSON.stringify(r)).not.toContain("wrong-secret-value")
  })

  it("splits imports over 10 MB into several files instead of meeting 413", async () => {
    const many = emails(420_000, "bulk-import-address-number-")
    const r = Either.getOrThrow(await run(Effect.gen(function*() {
      const m = yield* api
      const list = yield* m.createStaticList("big-import", 1034 as FolderId)
      return yield* m.importLeads(list.id, many)
    })))
    expect(r.length).toBe(2)
    expect(outcomes()["HTTP 413"]).toBeUndefined()
  }, 60_000)

  it("removes with the batch ids, refuses more than 300 ids before calling", async () => {
    const r = await run(Effect.flatMap(api, (m) => m.addToList(1 as ListId, Array.from({ length: 301 }, (_, i) => (i + 1) as LeadId))))
    expect(Either.getLeft(r).pipe(Option.getOrThrow)).toMatchObject({ _tag: "MarketoRejected", code: "batch" })
    expect(permits).toBe(0)
  })
})

describe("normalizeEndpoint", () => {
  it("accepts the admin page's form, with or without /rest and slashes", () => {
    for (const raw of ["https://123-ABC-456.mktorest.com", "https://123-ABC-456.mktorest.com/", "https://123-abc-456.mktorest.com/rest", " https://123-ABC-456.mktorest.com/rest/ "]) {
      expect(normalizeEndpoint(raw)).toEqual(Either.right("https://123-abc-456.mktorest.com"))
    }
  })
  it("explains what is wrong", () => {
    expect(normalizeEndpoint("123-ABC-456.mktorest.com")).toEqual(Either.left("MARKETO_ENDPOINT \"123-ABC-456.mktorest.com\" is not a URL (expected e.g. https://123-ABC-456.mktorest.com/rest)"))
    expect(normalizeEndpoint("ftp://x.example.com")._tag).toBe("Left")
    expect(normalizeEndpoint("https://x.mktorest.com/soap/mktows/3")._tag).toBe("Left")
    expect(normalizeEndpoint("https://user:pw@x.mktorest.com")._tag).toBe("Left")
  })
})
