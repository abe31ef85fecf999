// The Marketo client inside workerd sends a bulk import whose body is a stream (a staged file's
// parts, read one at a time): workerd's fetch streams it to the sandbox, which takes the whole
// multipart file.
import { env } from "cloudflare:test"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Redacted, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { TokenStore } from "../../adapters/marketo/AccessToken.js"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.js"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import type { FolderId } from "../../core/1-events/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { RateLimiter } from "../../core/ports/RateLimiter.js"

const client = MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
  FetchHttpClient.layer,
  TokenStore.layerMemory,
  Layer.succeed(RateLimiter, { withPermit: (self) => self, signal: () => Effect.void, status: Effect.die("not used") }),
  MarketoConfig.layer({ baseUrl: env.MARKETO_ENDPOINT, clientId: env.MARKETO_CLIENT_ID, clientSecret: Redacted.make(env.MARKETO_CLIENT_SECRET), retryBaseMillis: 5 })
)))

describe("a streamed import body inside workerd", () => {
  it("is sent part by part and the sandbox imports every row", async () => {
    const header = "email,firstName\r\n"
    const part = (p: number) => Array.from({ length: 20_000 }, (_, i) => `wd-${p}-${i}@example.com,"First, ${p}"\r\n`).join("")
    const parts = [header, part(0), part(1), part(2)]
    const bytes = parts.reduce((n, text) => n + new TextEncoder().encode(text).length, 0)
    const job = await Effect.runPromise(Effect.gen(function*() {
      const m = yield* MarketoApi
      const list = yield* m.createStaticList(`workerd-streamed-${Date.now()}`, 1034 as FolderId)
      return { list, job: yield* m.importCsv(list.id, { bytes, body: Stream.fromIterable(parts) }) }
    }).pipe(Effect.provide(client)))
    const snapshot = (await (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/snapshot`)).json()) as {
      imports: Array<{ batchId: number; listId: number | null; rows: number }>
    }
    expect(snapshot.imports.find((i) => i.batchId === job.job.batchId)).toMatchObject({ listId: job.list.id, rows: 60_000 })
  }, 60_000)
})
