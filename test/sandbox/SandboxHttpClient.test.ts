// The Marketo client over the in-process sandbox: no network, time from TestClock.
import { describe, expect, it } from "@effect/vitest"
import { layerRateLimiterMemory } from "../../core/ports/RateLimiterMemory.js"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Effect, Fiber, Layer, Redacted, Stream, TestClock } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/1-events/Email.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import * as SandboxHttpClient from "./SandboxHttpClient.js"
import { layerSandboxHttpClient, sandboxHttpClient } from "./SandboxHttpClient.js"
import { SandboxModel } from "./SandboxModel.js"

describe("sandbox as an in-process HttpClient", () => {
  it.effect("serves the client with no network; TestClock expires the token and runs imports", () =>
    Effect.gen(function*() {
      const sandbox = new SandboxModel({ importQueuedMillis: 1_000, importRunningMillis: 1_000 })
      const layer = MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
        layerSandboxHttpClient(sandbox),
        layerRateLimiterMemory({ callsPerWindow: 100, maxConcurrency: 10 }),
        TokenStore.layerMemory,
        MarketoConfig.layer({ baseUrl: "http://sandbox.local", clientId: "local-client-id", clientSecret: Redacted.make("local-client-secret") })
      )))
      yield* Effect.gen(function*() {
        const m = yield* MarketoApi
        const [folder] = yield* m.findFolders("Engage Audiences")
        const list = yield* m.createStaticList("in-process", folder!.id)
        const [job] = yield* m.importLeads(list.id, ["a@example.com", "b@example.com"] as Array<Email>)
        expect((yield* m.importStatus(job!.batchId)).status).toBe("Queued")
        yield* TestClock.adjust("1500 millis")
        expect((yield* m.importStatus(job!.batchId)).status).toBe("Importing")
        yield* TestClock.adjust("2 hours")
        expect((yield* m.importStatus(job!.batchId)).status).toBe("Complete")
        expect(sandbox.members("in-process")).toEqual(["a@example.com", "b@example.com"])
      }).pipe(Effect.provide(layer))
      // The token was renewed before its hour ran out: one refresh, no 602 met.
      expect(sandbox.log.filter((c) => c.path === "/identity/oauth/token").length).toBe(2)
      expect(sandbox.log.filter((c) => c.outcome === "602")).toEqual([])
    }))

  it.effect("refuses calls beyond 10 in flight with 615 while injected latency holds them, on the Effect clock", () =>
    Effect.gen(function*() {
      const sandbox = new SandboxModel()
      // Latency on every Marketo call (not on identity), as a fault rule.
      sandbox.setFaults([{ kind: "latency", rate: 1, millis: 200, pathPrefix: "/rest/" }])
      const client = sandboxHttpClient(sandbox)
      const token = (yield* (yield* client.get("http://sandbox.local/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret")).json) as { access_token: string }
      const call = client.execute(HttpClientRequest.get("http://sandbox.local/rest/v1/lists.json").pipe(HttpClientRequest.bearerToken(token.access_token))).pipe(
        Effect.flatMap((r) => r.json),
        Effect.map((b) => (b as { success: boolean; errors?: Array<{ code: string }> }).errors?.[0]?.code ?? "ok")
      )
      const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 25 }, () => call), { concurrency: "unbounded" }))
      yield* TestClock.adjust("199 millis")
      expect(sandbox.inFlight).toBe(10)
      yield* TestClock.adjust("1 millis")
      const codes = yield* Fiber.join(fiber)
      expect(codes.filter((c) => c === "ok")).toHaveLength(10)
      expect(codes.filter((c) => c === "615")).toHaveLength(15)
      expect(sandbox.inFlight).toBe(0)
    }))

  it.effect("as a layer: the same token until TestClock reaches its hour, then 602 for it and a new token", () =>
    Effect.gen(function*() {
      const sandbox = new SandboxModel()
      const tokenUrl = "http://sandbox.local/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret"
      yield* Effect.gen(function*() {
        const client = yield* HttpClient.HttpClient
        const token = () => client.get(tokenUrl).pipe(Effect.flatMap((r) => r.json), Effect.map((b) => b as { access_token: string; expires_in: number }))
        const lists = (t: string) =>
          client.execute(HttpClientRequest.get("http://sandbox.local/rest/v1/lists.json").pipe(HttpClientRequest.bearerToken(t))).pipe(
            Effect.flatMap((r) => r.json),
            Effect.map((b) => (b as { errors?: Array<{ code: string }> }).errors?.[0]?.code ?? "ok")
          )
        const first = yield* token()
        expect(first.expires_in).toBe(3599)
        yield* TestClock.adjust("3599 seconds")
        const again = yield* token()
        expect(again.access_token).toBe(first.access_token)
        expect(again.expires_in).toBe(0)
        expect(yield* lists(first.access_token)).toBe("ok")
        yield* TestClock.adjust("1 second")
        expect(yield* lists(first.access_token)).toBe("602")
        const renewed = yield* token()
        expect(renewed.access_token).not.toBe(first.access_token)
        expect(renewed.expires_in).toBe(3599)
        expect(yield* lists(renewed.access_token)).toBe("ok")
      }).pipe(Effect.provide(SandboxHttpClient.layer(sandbox)))
    }))

  it.effect("decides a call on arrival: a token that expires while latency holds the answer was still good", () =>
    Effect.gen(function*() {
      const sandbox = new SandboxModel()
      sandbox.setFaults([{ kind: "latency", rate: 1, millis: 2_000, pathPrefix: "/rest/" }])
      const client = sandboxHttpClient(sandbox)
      const token = (yield* (yield* client.get("http://sandbox.local/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret")).json) as { access_token: string }
      const call = client.execute(HttpClientRequest.get("http://sandbox.local/rest/v1/lists.json").pipe(HttpClientRequest.bearerToken(token.access_token))).pipe(
        Effect.flatMap((r) => r.json),
        Effect.map((b) => (b as { errors?: Array<{ code: string }> }).errors?.[0]?.code ?? "ok")
      )
      yield* TestClock.adjust("3599 seconds")
      const held = yield* Effect.fork(call)
      yield* TestClock.adjust("1999 millis")
      expect(sandbox.inFlight).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(held)).toBe("ok")
      expect(sandbox.log.at(-1)).toMatchObject({ at: 3_599_000, outcome: "ok" })
      // Arriving one second later, the same token has expired.
      const late = yield* Effect.fork(call)
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(late)).toBe("602")
    }))

  it.effect("reads streamed request bodies", () =>
    Effect.gen(function*() {
      const sandbox = new SandboxModel()
      const client = sandboxHttpClient(sandbox)
      const token = (yield* (yield* client.get("http://sandbox.local/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret")).json) as { access_token: string }
      const body = new TextEncoder().encode(JSON.stringify({ action: "createOrUpdate", lookupField: "email", input: [{ email: "streamed@example.com" }] }))
      const answer = yield* (yield* client.execute(HttpClientRequest.post("http://sandbox.local/rest/v1/leads.json").pipe(
        HttpClientRequest.bearerToken(token.access_token),
        HttpClientRequest.bodyStream(Stream.make(body.slice(0, 10), body.slice(10)), { contentType: "application/json" })
      ))).json
      expect(answer).toMatchObject({ success: true, result: [{ status: "created" }] })
      expect(sandbox.snapshot().leads.map((l) => l.email)).toEqual(["streamed@example.com"])
    }))
})
