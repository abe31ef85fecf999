// The ingest routes. Segment's HTTP Tracking API shape (/v1/batch, /v1/identify, /v1/track) so any
// Segment library or destination can send unchanged, and /webhook for signed webhook senders.
// A 200 means the accepted events are stored durably (an inbox entry); a 4xx says what was wrong.
import { Effect, Either } from "effect"
import { decodeEvents, type DecodedEvents } from "../core/EventDecoder.js"
import { appendInbox } from "../core/Inbox.js"
import { ingestAuthorized } from "./Auth.js"
import { json, problem } from "./Http.js"
import { run, stateLayer } from "./Layers.js"
import { marketoSettings, type WorkerEnv } from "./Settings.js"

/** Larger than Segment's 500 KB batches, small enough to decode well inside a Worker's memory. */
export const maxBodyBytes = 4 * 1024 * 1024

export const ingestRoutes = new Map<string, { readonly impliedType?: "identify" | "track"; readonly signature: boolean }>([
  ["/v1/batch", { signature: false }],
  ["/v1/identify", { impliedType: "identify", signature: false }],
  ["/v1/track", { impliedType: "track", signature: false }],
  ["/webhook", { signature: true }]
])

const basicChallenge = { "www-authenticate": "Basic realm=\"ingest\", charset=\"UTF-8\"" }

export const ingest = async (request: Request, env: WorkerEnv, path: string): Promise<Response> => {
  const route = ingestRoutes.get(path)!
  if (request.method !== "POST") return problem(405, `${path} accepts POST only`, {}, { allow: "POST" })
  const length = Number(request.headers.get("content-length") ?? "0")
  if (length > maxBodyBytes) return problem(413, `the body is larger than ${maxBodyBytes} bytes`)
  const body = await request.arrayBuffer()
  if (body.byteLength > maxBodyBytes) return problem(413, `the body is larger than ${maxBodyBytes} bytes`)
  const authorized = await ingestAuthorized(request, body, { token: env.INGEST_TOKEN, secret: env.INGEST_SECRET }, route.signature)
  if (!authorized) {
    return problem(401, route.signature ? "missing or invalid credentials: send X-Signature (HMAC-SHA1 of the body with INGEST_SECRET) or Authorization: Bearer INGEST_TOKEN" : "missing or invalid credentials: send the write key (INGEST_TOKEN) as HTTP Basic user name, or Authorization: Bearer", {}, route.signature ? {} : basicChallenge)
  }
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase()
  if (!contentType.includes("json") && !contentType.startsWith("text/plain")) {
    return problem(415, `content-type must be application/json, got "${contentType.slice(0, 60)}"`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body))
  } catch (error) {
    return problem(400, `the body is not JSON: ${error instanceof Error ? error.message : "parse error"}`)
  }
  // /v1/identify and /v1/track name the type in the path; Segment's HTTP API lets the body omit it.
  if (route.impliedType !== undefined && typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && !("type" in parsed)) {
    parsed = { ...parsed, type: route.impliedType }
  }
  const decoded = decodeEvents(parsed, Date.now())
  if (Either.isLeft(decoded)) return problem(400, decoded.left.reason)
  const events: DecodedEvents = decoded.right
  if (events.accepted === 0) return problem(400, "no event in the body is valid", { rejected: events.rejected })
  const settings = marketoSettings(env)
  if (Either.isLeft(settings)) {
    // Refuse rather than store where the sync cannot find it: senders retry on 5xx.
    return problem(503, "the worker is not configured yet; events were not stored", { configuration: settings.left })
  }
  const stored = await run(Effect.either(appendInbox(events).pipe(Effect.provide(stateLayer(env, settings.right.endpoint)))))
  if (Either.isLeft(stored)) return problem(503, "events could not be stored; retry", { detail: stored.left._tag })
  return json(200, { accepted: events.accepted, rejected: events.rejected })
}
