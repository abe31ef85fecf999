import { changesOf, withoutEmailOf } from "../../../core/1-events/EventDecoder.js"
// Shared by the decoder tests: Segment fixtures, a decoded body as plain rows, an identify to vary.
import { Either } from "effect"
import { readFileSync } from "node:fs"
import { type DecodedEvents, decodeEvents, decodeEventsText } from "../../../core/1-events/EventDecoder.js"

export const fixture = (name: string) => readFileSync(new URL(`./fixtures/segment/${name}`, import.meta.url), "utf8")
export const receivedAt = Date.parse("2026-11-23T00:00:00Z")
export const at = (iso: string) => Date.parse(iso)

export const decoded = (result: Either.Either<DecodedEvents, { readonly reason: string }>): DecodedEvents => {
  if (Either.isLeft(result)) throw new Error(`expected events, got BodyRejected: ${result.left.reason}`)
  return result.right
}
export const fromFixture = (name: string) => decoded(decodeEventsText(fixture(name), receivedAt))
export const one = (body: unknown) => decoded(decodeEvents(body, receivedAt))
export const bodyRejection = (result: Either.Either<DecodedEvents, { readonly reason: string }>) =>
  Either.isLeft(result) ? result.left.reason : "accepted"
/** Changes as plain rows, easy to compare whole. */
export const rows = (out: DecodedEvents) => changesOf(out).map((c) => ({ ...c }))

export const identify = (overrides: Record<string, unknown> = {}, traits: Record<string, unknown> = {}) => ({
  type: "identify",
  userId: "u1",
  messageId: "m1",
  timestamp: "2026-11-20T10:00:00Z",
  traits: { email: "ada@example.com", vip: true, ...traits },
  context: { personas: { computation_key: "vip", computation_class: "audience" } },
  ...overrides
})
export const reasons = (event: unknown) => one([event]).rejected.map((r) => r.reason)
/** The decoded body with its fan-out: the changes and the members without email, as rows. */
export const asRows = (out: DecodedEvents) => ({
  events: out.events,
  accepted: out.accepted,
  rejected: out.rejected,
  changes: changesOf(out),
  withoutEmail: withoutEmailOf(out)
})
