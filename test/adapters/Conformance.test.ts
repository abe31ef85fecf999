// Every request the Marketo client sends and every answer the sandbox gives, over a realistic run,
// validated against Adobe's official OpenAPI files (../shared/marketo-openapi/ beside the repo).
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Redacted } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/Email.js"
import type { FolderId } from "../../core/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import type { SandboxRequest, SandboxResponse } from "../sandbox/SandboxModel.js"
import { type SandboxServer, startSandboxServer } from "../sandbox/server.js"
import { makeContract, openApiFolder, openApiPresent } from "./OpenApiContract.js"

if (!openApiPresent) console.log(`Conformance: Adobe's OpenAPI files are not at ${openApiFolder}; the conformance check is skipped.`)

const exchanges: Array<readonly [SandboxRequest, SandboxResponse]> = []
let server: SandboxServer

beforeAll(async () => {
  server = await startSandboxServer({
    port: 0,
    config: { duplicateEmails: ["twin@example.com"], importQueuedMillis: 0, importRunningMillis: 0 },
    onExchange: (request, response) => void exchanges.push([request, response])
  })
})
afterAll(() => server.close())

describe.skipIf(!openApiPresent)("conformance with Adobe's OpenAPI files", () => {
  it("every request and answer of a realistic run validates", async () => {
    const layer = MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
      FetchHttpClient.layer,
      RateLimiter.layerMemory({ callsPerWindow: 100, maxConcurrency: 10 }),
      TokenStore.layerMemory,
      MarketoConfig.layer({ baseUrl: server.url, clientId: "local-client-id", clientSecret: Redacted.make("local-client-secret"), retryBaseMillis: 5 })
    )))
    await Effect.runPromise(Effect.gen(function*() {
      const m = yield* MarketoApi
      const [folder] = yield* m.findFolders("Engage Audiences")
      yield* m.findFolders("Missing folder")
      const list = yield* m.createStaticList("conformance", folder!.id)
      yield* Effect.either(m.createStaticList("conformance", folder!.id))
      yield* Effect.either(m.createStaticList("elsewhere", 4242 as FolderId))
      yield* m.findStaticList("conformance")
      yield* m.findStaticList("missing list")
      const upserted = yield* m.upsertLeads(["a@example.com", "b@example.com", "twin@example.com"] as Array<Email>)
      const ids = upserted.flatMap((u) => (u.status === "skipped" ? [] : [u.leadId]))
      yield* m.lookupLeads(["a@example.com", "twin@example.com", "none@example.com"] as Array<Email>)
      yield* m.lookupLeads(Array.from({ length: 300 }, (_, i) => `a-long-local-part-to-pass-the-uri-limit-${i}@example.com` as Email))
      yield* m.addToList(list.id, ids)
      yield* m.listMembers(list.id)
      yield* m.removeFromList(list.id, [ids[0]!, ids[0]!])
      const [job] = yield* m.importLeads(list.id, ["c@example.com", "d@example.com"] as Array<Email>)
      yield* m.importStatus(job!.batchId)
      yield* m.importFailures(job!.batchId)
    }).pipe(Effect.provide(layer)))

    const contract = makeContract()
    const problems = exchanges.flatMap(([request, response]) => contract.check(request, response))
    expect(exchanges.length).toBeGreaterThan(15)
    expect(problems).toEqual([])
  })

  it("the checker itself catches a non-conforming answer", () => {
    const contract = makeContract()
    const request: SandboxRequest = { method: "GET", url: "/rest/v1/lists/1/leads.json?batchSize=300", headers: {}, body: new Uint8Array() }
    const bad: SandboxResponse = { status: 200, headers: { "content-type": "application/json" }, body: JSON.stringify({ success: true, requestId: "x", errors: [], warnings: [], result: [{ id: "not-a-number" }] }) }
    expect(contract.check(request, bad).length).toBeGreaterThan(0)
    const unknown: SandboxRequest = { method: "GET", url: "/rest/v1/nowhere.json", headers: {}, body: new Uint8Array() }
    expect(contract.check(unknown, bad)).toEqual(["GET /rest/v1/nowhere.json: no such operation in the OpenAPI files"])
  })
})
