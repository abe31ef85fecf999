// The ingest routes. Segment's HTTP Tracking API shape (/v1/batch, /v1/identify, /v1/track) so any
// Segment library or destination can send unchanged, and /webhook for signed webhook senders.
// A 200 means the accepted events are stored durably (an inbox entry); a 4xx says what was wrong.
import { Effect, Either } from "effect"
import { BodyRejected, decodeEvents, type DecodedEvents } from "../core/1-events/EventDecoder.js"
import { appendInbox } from "../core/2-ledger/Inbox.js"
import { ingestAuthorized } from "./Auth.js"
import { json, problem, withFacts } from "./Http.js"
import { run, stateLayer } from "./Layers.js"
import type { RouteContext } from "./Router.js"
import { marketoSettings } from "./Settings.js"

/** Larger than Segment's 500 KB batches, small enough to decode well inside a Worker's 128 MB. */
export const maxBodyBytes = 4 * 1024 * 1024

export interface IngestRoute {
  /** /v1/identify and /v1/track name the type in the path; Segment's HTTP API lets the body omit it. */
  readonly impliedType?: "identify" | "track"
  /** Whether X-Signature (HMAC-SHA1 with INGEST_SECRET) is accepted: on /webhook only. */
  readonly signature: boolean
}

const tooLarge = () => problem(413, `the body is larger than ${maxBodyBytes} bytes (4 MiB); send smaller batches`)

/** Reads the body, stopping as soon as it passes the cap, so a huge body is never held whole. */
const readCapped = async (request: Request): Promise<ArrayBuffer | undefined> => {
  if (request.body === null) return new ArrayBuffer(0)
  const reader = request.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBodyBytes) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body.buffer
}

const unauthorized = (route: IngestRoute) =>
  route.signature
    ? problem(401, "missing or invalid credentials: send X-Signature (HMAC-SHA1 of the body with INGEST_SECRET) or Authorization: Bearer INGEST_TOKEN")
    : problem(401, "missing or invalid credentials: send the write key (INGEST_TOKEN) as HTTP Basic user name, or Authorization: Bearer", {}, {
      "www-authenticate": "Basic realm=\"ingest\", charset=\"UTF-8\""
    })

const parse = (body: ArrayBuffer, route: IngestRoute): Either.Either<unknown, BodyRejected> => {
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body))
  } catch (error) {
    // V8's message says where parsing stopped ("... at position 12"), never more of the body.
    return Either.left(new BodyRejected({ reason: `the body is not JSON: ${error instanceof Error ? error.message : "parse error"}` }))
  }
  if (route.impliedType !== undefined && typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && !("type" in parsed)) {
    parsed = { ...parsed, type: route.impliedType }
  }
  return Either.right(parsed)
}

export const ingest = (route: IngestRoute) => async ({ env, request }: RouteContext): Promise<Response> => {
  const length = Number(request.headers.get("content-length") ?? "0")
  if (length > maxBodyBytes) return tooLarge()
  const body = await readCapped(request)
  if (body === undefined) return tooLarge()
  if (!(await ingestAuthorized(request, body, { token: env.INGEST_TOKEN, secret: env.INGEST_SECRET }, route.signature))) {
    return unauthorized(route)
  }
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase()
  if (!contentType.includes("json") && !contentType.startsWith("text/plain")) {
    return problem(415, `content-type must be application/json, got "${contentType.slice(0, 60)}"`)
  }
  const settings = marketoSettings(env)
  // The traits kept as lead fields (MARKETO_LEAD_FIELDS); none while the settings are invalid (503 below).
  const mapping = Either.isRight(settings) ? settings.right.leadFields.mapping : []
  const decoded = Either.flatMap(parse(body, route), (parsed) => decodeEvents(parsed, Date.now(), mapping))
  if (Either.isLeft(decoded)) return problem(400, decoded.left.reason)
  const events: DecodedEvents = decoded.right
  if (events.accepted === 0) return problem(400, "no event in the body is valid", { rejected: events.rejected })
  if (Either.isLeft(settings)) {
    // Refuse rather than store where the sync cannot find it (the state lives with the instance's
    // Durable Object, named by the endpoint): senders retry on 5xx.
    return problem(503, "the worker is not configured yet; events were not stored", { configuration: settings.left })
  }
  const stored = await run(Effect.either(appendInbox(events).pipe(Effect.provide(stateLayer(env, settings.right.endpoint)))))
  if (Either.isLeft(stored)) return problem(503, "events could not be stored; retry", { detail: stored.left._tag })
  return withFacts(json(200, { accepted: events.accepted, rejected: events.rejected }), {
    accepted: events.accepted,
    rejected: events.rejected.length,
    changes: events.memberships.reduce((n, m) => n + m.emails.length, 0)
  })
}
