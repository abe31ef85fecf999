// The Marketo client over the in-process sandbox: no network, time from TestClock.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, TestClock } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { Email } from "../../core/Email.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"
import { layerSandboxHttpClient } from "./SandboxHttpClient.js"
import { SandboxModel } from "./SandboxModel.js"

describe("sandbox as an in-process HttpClient", () => {
  it.effect("serves the client with no network; TestClock expires the token and runs imports", () =>
    Effect.gen(function*() {
      const sandbox = new SandboxModel({ importQueuedMillis: 1_000, importRunningMillis: 1_000 })
      const layer = MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
        layerSandboxHttpClient(sandbox),
        RateLimiter.layerMemory({ callsPerWindow: 100, maxConcurrency: 10 }),
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
})
