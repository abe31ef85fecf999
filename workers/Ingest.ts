// The ingest routes. Segment's HTTP Tracking API shape (/v1/batch, /v1/identify, /v1/track) so any
// Segment library or destination can send unchanged, and /webhook for signed webhook senders.
// Credentials come before the body; decoded events are admitted by audience (workers/Admission.ts)
// before anything is stored. A 200 means the accepted events are stored durably (an inbox entry);
// a 4xx says what was wrong.
import { Effect, Either } from "effect"
import { BodyRejected, decodeEvents } from "../core/1-events/EventDecoder.js"
import { appendInbox } from "../core/2-ledger/Inbox.js"
import { ingestTokenPresented, signatureOffered, signatureValid } from "./Auth.js"
import { maxBodyBytes, readCapped } from "./CappedBody.js"
import { json, problem, withFacts } from "./Http.js"
import { admitEvents } from "./Admission.js"
import { instanceFor, run, stateLayer } from "./Layers.js"
import type { RouteContext } from "./Router.js"
import { ingestSettings, marketoSettings } from "./Settings.js"

export interface IngestRoute {
  /** /v1/identify and /v1/track name the type in the path; Segment's HTTP API lets the body omit it. */
  readonly impliedType?: "identify" | "track"
  /** Whether X-Signature (HMAC-SHA1 with INGEST_SECRET) is accepted: on /webhook only. */
  readonly signature: boolean
}

const tooLarge = () => problem(413, `the body is larger than ${maxBodyBytes} bytes (4 MiB); send smaller batches`)

const unauthorized = (route: IngestRoute) =>
  route.signature
    ? problem(401, "missing or invalid credentials: send X-Signature (HMAC-SHA1 of the body with INGEST_SECRET) or Authorization: Bearer INGEST_TOKEN")
    : problem(401, "missing or invalid credentials: send the write key (INGEST_TOKEN) as HTTP Basic user name, or Authorization: Bearer", {}, {
      "www-authenticate": "Basic realm=\"ingest\", charset=\"UTF-8\""
    })

const parse = (body: ArrayBuffer, route: IngestRoute): Either.Either<unknown, BodyRejected> => {
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body)
  } catch {
    // Said in our words: each runtime's decoder words it its own way.
    return Either.left(new BodyRejected({ reason: "the body is not JSON: it is not valid UTF-8" }))
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    // V8's message says where parsing stopped ("... at position 12"), never more of the body.
    return Either.left(new BodyRejected({ reason: `the body is not JSON: ${error instanceof Error ? error.message : "parse error"}` }))
  }
  if (route.impliedType !== undefined && typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && !("type" in parsed)) {
    parsed = { ...parsed, type: route.impliedType }
  }
  return Either.right(parsed)
}

/**
 * The body of an authenticated request. A token is checked from the headers before any byte is
 * read; a signature needs the body, so at most the size cap is read before it is checked.
 */
const authenticatedBody = async (request: Request, env: RouteContext["env"], route: IngestRoute): Promise<ArrayBuffer | Response> => {
  if (await ingestTokenPresented(request, env.INGEST_TOKEN)) return (await readCapped(request)) ?? tooLarge()
  if (!route.signature || !signatureOffered(request, env.INGEST_SECRET)) return unauthorized(route)
  const body = await readCapped(request)
  if (body === undefined) return tooLarge()
  return (await signatureValid(request, body, env.INGEST_SECRET)) ? body : unauthorized(route)
}

export const ingest = (route: IngestRoute) => async ({ env, platform, request }: RouteContext): Promise<Response> => {
  const body = await authenticatedBody(request, env, route)
  if (body instanceof Response) return body
  const contentType = (request.headers.get("content-type") ?? "").toLowerCase()
  if (!contentType.includes("json") && !contentType.startsWith("text/plain")) {
    return problem(415, `content-type must be application/json, got "${contentType.slice(0, 60)}"`)
  }
  const settings = marketoSettings(env)
  // The traits kept as lead fields (MARKETO_LEAD_FIELDS); none while the settings are invalid (503 below).
  const mapping = Either.isRight(settings) ? settings.right.leadFields.mapping : []
  const decoded = Either.flatMap(parse(body, route), (parsed) => decodeEvents(parsed, Date.now(), mapping))
  if (Either.isLeft(decoded)) return problem(400, decoded.left.reason)
  if (decoded.right.accepted === 0) return problem(400, "no event in the body is valid", { rejected: decoded.right.rejected })
  const limits = ingestSettings(env)
  if (Either.isLeft(settings) || Either.isLeft(limits)) {
    // Refuse rather than store where the sync cannot find it (the state lives under the instance,
    // named by the endpoint), or past limits that cannot be read: senders retry on 5xx.
    return problem(503, "the worker is not configured yet; events were not stored", {
      configuration: [...Either.match(settings, { onLeft: (p) => p, onRight: () => [] }), ...Either.match(limits, { onLeft: (p) => p, onRight: () => [] })]
    })
  }
  const instance = instanceFor(platform, settings.right.endpoint)
  const admitted = await run(Effect.either(admitEvents(decoded.right, limits.right, instance)))
  if (Either.isLeft(admitted)) return problem(503, "events could not be stored; retry", { detail: admitted.left._tag })
  const { events, ignored } = admitted.right
  if (events.accepted === 0 && ignored === 0) return problem(400, "no event in the body was accepted", { rejected: events.rejected })
  if (events.accepted > 0) {
    const stored = await run(Effect.either(appendInbox(events).pipe(Effect.provide(stateLayer(platform, settings.right.endpoint)))))
    if (Either.isLeft(stored)) return problem(503, "events could not be stored; retry", { detail: stored.left._tag })
  }
  // `ignored`: events older than their audience's removal (a replay, or a late sender), not stored.
  return withFacts(json(200, { accepted: events.accepted, rejected: events.rejected, ...(ignored > 0 ? { ignored } : {}) }), {
    accepted: events.accepted,
    rejected: events.rejected.length,
    ignored,
    changes: events.memberships.reduce((n, m) => n + m.emails.length, 0)
  })
}
