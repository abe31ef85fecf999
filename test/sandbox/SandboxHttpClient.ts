// The sandbox as an in-process @effect/platform HttpClient: pure tests talk to it with no network,
// and time comes from Effect's Clock, so TestClock drives token expiry, windows and imports.
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Chunk, Clock, Effect, Layer, Stream } from "effect"
import type { SandboxModel } from "./SandboxModel.js"

type ClientRequest = Parameters<Parameters<typeof HttpClient.make>[0]>[0]

/** The request body as bytes, whichever way the caller built it. */
const bodyBytes = (request: ClientRequest): Effect.Effect<{ bytes: Uint8Array; contentType?: string }> => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return Effect.succeed({ bytes: body.body, contentType: body.contentType })
    case "FormData":
      return Effect.promise(async () => {
        const encoded = new Response(body.formData)
        return { bytes: new Uint8Array(await encoded.arrayBuffer()), contentType: encoded.headers.get("content-type") ?? "" }
      })
    case "Raw":
      return Effect.promise(async () => ({
        bytes: new Uint8Array(await new Response(body.body as BodyInit).arrayBuffer()),
        ...(body.contentType === undefined ? {} : { contentType: body.contentType })
      }))
    case "Stream":
      return body.stream.pipe(
        Stream.runCollect,
        Effect.map((chunks) => {
          const parts = Chunk.toReadonlyArray(chunks)
          const bytes = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
          let offset = 0
          for (const part of parts) {
            bytes.set(part, offset)
            offset += part.byteLength
          }
          return { bytes, contentType: body.contentType }
        }),
        Effect.orDie
      )
    case "Empty":
      return Effect.succeed({ bytes: new Uint8Array() })
  }
}

export const sandboxHttpClient = (sandbox: SandboxModel) =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const { bytes, contentType } = yield* bodyBytes(request)
      const headers: Record<string, string> = { ...request.headers }
      if (contentType !== undefined) headers["content-type"] = contentType
      const input = { method: request.method, url: url.pathname + url.search, headers, body: bytes }
      const busy = sandbox.refuseIfBusy(input, yield* Clock.currentTimeMillis)
      const answer = busy ?? (yield* Effect.acquireUseRelease(
        Effect.sync(() => sandbox.inFlight++),
        () =>
          Effect.gen(function*() {
            // Decided on arrival, answered after the latency, which runs on the Effect clock:
            // under TestClock a test moves time to let it pass.
            const latency = sandbox.latencyFor(input)
            const answer = sandbox.handle(input, yield* Clock.currentTimeMillis)
            if (latency > 0) yield* Effect.sleep(latency)
            return answer
          }),
        () => Effect.sync(() => sandbox.inFlight--)
      ))
      if (answer.drop === true) {
        return yield* new HttpClientError.RequestError({ request, reason: "Transport", description: "connection dropped" })
      }
      return HttpClientResponse.fromWeb(request, new Response(answer.body, { status: answer.status, headers: answer.headers }))
    })
  )

export const layerSandboxHttpClient = (sandbox: SandboxModel) => Layer.succeed(HttpClient.HttpClient, sandboxHttpClient(sandbox))

/** `import * as SandboxHttpClient from "./SandboxHttpClient.js"` then `SandboxHttpClient.layer(sandbox)`. */
export const make = sandboxHttpClient
export const layer = layerSandboxHttpClient
