// Every request the Marketo client sends and every answer the sandbox gives, over the whole client
// test run (ClientSuite.ts, faults included) and a run of every endpoint (lead fields, describe2
// and partitions included), validated against Adobe's official OpenAPI files
// (../shared/marketo-openapi/ from the repository root).
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Option, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/1-events/Email.js"
import type { FolderId, ListId } from "../../core/1-events/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import type { SandboxRequest, SandboxResponse } from "../sandbox/SandboxModel.js"
import { type SandboxServer, startSandboxServer } from "../sandbox/server.js"
import { clientSuite } from "./ClientSuite.js"
import { differences, makeContract, openApiFolder, openApiPresent } from "./OpenApiContract.js"
import { layerRateLimiterMemory } from "../../core/ports/RateLimiterMemory.js"

if (!openApiPresent) {
  console.log(`Conformance: Adobe's OpenAPI files (swagger-identity.json, swagger-mapi.json, swagger-asset.json) are not in ${openApiFolder}; the conformance checks are skipped.`)
}

const exchanges: Array<readonly [SandboxRequest, SandboxResponse]> = []
const record = (request: SandboxRequest, response: SandboxResponse) => void exchanges.push([request, response])

// The whole client run, recorded.
clientSuite(record)

describe("conformance with Adobe's OpenAPI files", () => {
  let server: SandboxServer
  let partitioned: SandboxServer
  beforeAll(async () => {
    server = await startSandboxServer({
      port: 0,
      host: "127.0.0.1",
      config: { duplicateEmails: ["twin@example.com"], importQueuedMillis: 0, importRunningMillis: 0, importRunningMillisPerRow: 0, failImportsContaining: "fail-import@example.com" },
      onExchange: record
    })
    partitioned = await startSandboxServer({
      port: 0,
      host: "127.0.0.1",
      config: { partitions: ["Europe"], importQueuedMillis: 0, importRunningMillis: 0 },
      onExchange: record
    })
  })
  afterAll(() => Promise.all([server.close(), partitioned.close()]))

  const clientOn = (url: string, partitionName?: string) =>
    MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
      FetchHttpClient.layer,
      layerRateLimiterMemory({ callsPerWindow: 100, maxConcurrency: 10 }),
      TokenStore.layerMemory,
      MarketoConfig.layer({
        baseUrl: url,
        clientId: "local-client-id",
        clientSecret: Redacted.make("local-client-secret"),
        retryBaseMillis: 5,
        ...(partitionName === undefined ? {} : { partitionName })
      })
    )))
  const names = new Map([
    ["a@example.com" as Email, { firstName: "Ada", lastName: "Lovelace, \"Countess\"" }],
    ["e@example.com" as Email, { firstName: "Edsger", lastName: "Dijkstra" }],
    ["f@example.com" as Email, { firstName: "Frances" }]
  ])

  it("a run of every endpoint completes (recorded for the check below)", async () => {
    const layer = clientOn(server.url)
    await Effect.runPromise(Effect.gen(function*() {
      const m = yield* MarketoApi
      const [folder] = yield* m.findFolders("Engage Audiences")
      yield* m.findFolders("Missing folder")
      const list = yield* m.createStaticList("conformance", folder!.id)
      yield* Effect.either(m.createStaticList("conformance", folder!.id))
      yield* Effect.either(m.createStaticList("elsewhere", 4242 as FolderId))
      yield* m.findStaticList("conformance")
      yield* m.findStaticList("missing list")
      yield* m.getStaticList(list.id)
      yield* m.getStaticList(987_654 as ListId)
      const upserted = yield* m.upsertLeads(["a@example.com", "b@example.com", "twin@example.com"] as Array<Email>)
      const ids = upserted.flatMap((u) => (u.status === "skipped" ? [] : [u.leadId]))
      yield* m.lookupLeads(["a@example.com", "twin@example.com", "none@example.com"] as Array<Email>)
      yield* m.lookupLeads(Array.from({ length: 300 }, (_, i) => `a-long-local-part-to-pass-the-uri-limit-${i}@example.com` as Email))
      yield* m.addToList(list.id, ids)
      yield* m.listMembers(list.id)
      yield* m.listHasLeads(list.id, ids)
      yield* m.removeFromList(list.id, [ids[0]!, ids[0]!])
      const [job] = yield* m.importLeads(list.id, ["c@example.com", "d@example.com"] as Array<Email>)
      yield* m.importStatus(job!.batchId)
      yield* m.importFailures(job!.batchId)
      yield* m.importWarnings(job!.batchId)
      const [bad] = yield* m.importLeads(list.id, ["fail-import@example.com"] as Array<Email>)
      yield* m.importStatus(bad!.batchId)
      yield* m.importFailures(bad!.batchId)
      // Lead fields: describe2, values in upsert records and as import columns.
      const described = yield* m.describeLeadFields()
      expect(described.find((f) => f.name === "firstName")).toMatchObject({ updateable: true })
      yield* m.upsertLeads(["a@example.com", "b@example.com"] as Array<Email>, names)
      const named = yield* m.importLeads(list.id, ["e@example.com", "f@example.com", "g@example.com"] as Array<Email>, names)
      expect(named).toHaveLength(3)
      for (const job of named) yield* m.importStatus(job.batchId)
      const read = yield* m.lookupLeads(["e@example.com"] as Array<Email>)
      expect(read[0]!.leadIds).toHaveLength(1)
    }).pipe(Effect.provide(layer)))
    expect(server.sandbox.snapshot().leads.find((l) => l.email === "a@example.com")?.fields).toEqual(names.get("a@example.com" as Email))
    expect(server.sandbox.snapshot().leads.find((l) => l.email === "f@example.com")?.fields).toEqual({ firstName: "Frances" })
  })

  it("a run with lead partitions completes: partitionName on upserts and imports, 1009 without it (recorded too)", async () => {
    await Effect.runPromise(Effect.gen(function*() {
      const m = yield* MarketoApi
      const [folder] = yield* m.findFolders("Engage Audiences")
      const list = yield* m.createStaticList("partitioned", folder!.id)
      const upserted = yield* m.upsertLeads(["a@example.com"] as Array<Email>, names)
      expect(upserted[0]!.status).toBe("created")
      const [job] = yield* m.importLeads(list.id, ["e@example.com"] as Array<Email>, names)
      yield* m.importStatus(job!.batchId)
    }).pipe(Effect.provide(clientOn(partitioned.url, "Europe"))))
    const refused = await Effect.runPromise(Effect.gen(function*() {
      const m = yield* MarketoApi
      const skipped = yield* m.upsertLeads(["z@example.com"] as Array<Email>)
      const listed = yield* m.findStaticList("partitioned")
      const failed = yield* Effect.flip(m.importLeads(Option.getOrThrow(listed).id, ["y@example.com"] as Array<Email>))
      return { skipped, failed }
    }).pipe(Effect.provide(clientOn(partitioned.url))))
    expect(refused.skipped[0]).toMatchObject({ status: "skipped", reasons: [{ code: "1009" }] })
    expect(refused.failed).toMatchObject({ _tag: "MarketoRejected", code: "1009" })
    expect(partitioned.sandbox.snapshot().leads.map((l) => l.partition)).toEqual(["Europe", "Europe"])
  })

  it.skipIf(!openApiPresent)("every request and answer of the whole run validates, skipping only the listed differences", () => {
    const contract = makeContract()
    const problems = exchanges.flatMap(([request, response]) => contract.check(request, response))
    expect(exchanges.length).toBeGreaterThan(100)
    expect(problems).toEqual([])
    // Each listed difference was met (none is dead), and nothing else was skipped.
    expect([...contract.used().keys()].sort()).toEqual(Object.keys(differences).sort())
  })

  it.skipIf(!openApiPresent)("the checker itself catches requests and answers that do not conform", () => {
    const contract = makeContract()
    const bearer = { authorization: "Bearer t" }
    const get = (url: string): SandboxRequest => ({ method: "GET", url, headers: bearer, body: new Uint8Array() })
    const answer = (body: unknown): SandboxResponse => ({ status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
    const good = answer({ success: true, requestId: "x", errors: [], warnings: [], result: [{ id: 1, email: "a@example.com" }] })
    expect(contract.check(get("/rest/v1/lists/1/leads.json?batchSize=300"), good)).toEqual([])
    expect(contract.check(get("/rest/v1/lists/1/leads.json?batchSize=300"), answer({ success: true, requestId: "x", errors: [], warnings: [], result: [{ id: "one" }] })).length).toBeGreaterThan(0)
    expect(contract.check(get("/rest/v1/lists/x/leads.json"), good)).toEqual(["GET /rest/v1/lists/{listId}/leads.json: listId=x is not an integer"])
    expect(contract.check(get("/rest/v1/leads.json?filterValues=a@example.com"), good)).toEqual(["GET /rest/v1/leads.json: required query parameter filterType missing"])
    expect(contract.check({ ...get("/rest/v1/lists/1/leads.json"), headers: {} }, good)).toEqual(["GET /rest/v1/lists/{listId}/leads.json: no Bearer token"])
    expect(contract.check(get("/rest/v1/lists/1/leads.json?access_token=t"), good)).toEqual(["GET /rest/v1/lists/{listId}/leads.json: access_token in the query"])
    expect(contract.check(get("/rest/v1/lists/1/leads.json"), answer({ success: false, requestId: "x", errors: [{ code: 606 }] })).length).toBeGreaterThan(0)
    const form = (body: string): SandboxRequest => ({
      method: "POST",
      url: "/rest/asset/v1/staticLists.json",
      headers: { ...bearer, "content-type": "application/x-www-form-urlencoded" },
      body: new TextEncoder().encode(body)
    })
    const created = answer({ success: true, requestId: "x", errors: [], warnings: [], result: [] })
    expect(contract.check(form(`name=a&folder=${encodeURIComponent("{\"id\":1,\"type\":\"Folder\"}")}`), created)).toEqual([])
    expect(contract.check(form("name=a"), created).join()).toMatch(/form body: .*folder/)
    expect(contract.check(get("/rest/v1/nowhere.json"), good)).toEqual(["GET /rest/v1/nowhere.json: no such operation in the OpenAPI files"])
  })
})
