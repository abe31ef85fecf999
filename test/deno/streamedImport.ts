// Run under Deno by scripts/deno-streamed-import.ts (not a `deno test`: it needs the sandbox served
// on 127.0.0.1): the Marketo client sends a bulk import whose body is a stream, through Deno's
// fetch, and prints the job and the list as JSON.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { Effect, Layer, Redacted, Stream } from "effect"
import { TokenStore } from "../../adapters/marketo/AccessToken.ts"
import * as MarketoClient from "../../adapters/marketo/MarketoClient.ts"
import { MarketoConfig } from "../../adapters/marketo/MarketoConfig.ts"
import type { FolderId } from "../../core/1-events/Ids.ts"
import { MarketoApi } from "../../core/ports/MarketoApi.ts"
import { RateLimiter } from "../../core/ports/RateLimiter.ts"

declare const Deno: { readonly args: ReadonlyArray<string> }

const baseUrl = Deno.args[0]!
const client = MarketoClient.layer.pipe(Layer.provide(Layer.mergeAll(
  FetchHttpClient.layer,
  TokenStore.layerMemory,
  Layer.succeed(RateLimiter, { withPermit: (self) => self, signal: () => Effect.void, status: Effect.die("not used") }),
  MarketoConfig.layer({ baseUrl, clientId: "local-client-id", clientSecret: Redacted.make("local-client-secret"), retryBaseMillis: 5 })
)))

const header = "email,firstName\r\n"
const part = (p: number) => Array.from({ length: 20_000 }, (_, i) => `deno-${p}-${i}@example.com,"First, ${p}"\r\n`).join("")
const parts = [header, part(0), part(1), part(2)]
const bytes = parts.reduce((n, text) => n + new TextEncoder().encode(text).length, 0)
const result = await Effect.runPromise(Effect.gen(function*() {
  const m = yield* MarketoApi
  const list = yield* m.createStaticList("deno-streamed", 1034 as FolderId)
  const job = yield* m.importCsv(list.id, { bytes, body: Stream.fromIterable(parts) })
  return { listId: list.id, batchId: job.batchId }
}).pipe(Effect.provide(client)))
console.log(JSON.stringify(result))
