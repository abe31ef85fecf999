import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import fc from "fast-check"
import { readFileSync } from "node:fs"
import { decodeEvents, decodeEventsText } from "../../core/EventDecoder.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/segment/${name}`, import.meta.url), "utf8")
const receivedAt = Date.parse("2026-11-21T00:00:00Z")
const ok = (text: string) => Either.getOrThrow(decodeEventsText(text, receivedAt))
const identify = (overrides: Record<string, unknown> = {}, traits: Record<string, unknown> = {}) => ({
  type: "identify",
  userId: "u1",
  messageId: "m1",
  timestamp: "2026-11-20T10:00:00Z",
  traits: { email: "ada@example.com", vip: true, ...traits },
  context: { personas: { computation_key: "vip", computation_class: "audience" } },
  ...overrides
})
const one = (event: unknown) => Either.getOrThrow(decodeEvents(event, receivedAt))

describe("EventDecoder: Segment payloads", () => {
  it("decodes an Engage identify: membership from traits, email normalised", () => {
    const out = ok(fixture("identify-audience.json"))
    expect(out.events).toBe(1)
    expect(out.accepted).toBe(1)
    expect(out.rejected).toEqual([])
    expect(out.changes.map((c) => ({ ...c }))).toEqual([{
      audience: "first_time_shopper",
      audienceClass: "audience",
      user: "u123",
      email: "ada@example.com",
      member: true,
      timestamp: Date.parse("2026-11-20T10:00:00.000Z"),
      messageId: "personas_1a2b"
    }])
  })

  it("decodes a batch of track events: entered, exited, no email, journey step with externalIds", () => {
    const out = ok(fixture("track-batch.json"))
    expect(out.events).toBe(4)
    expect(out.accepted).toBe(4)
    expect(out.rejected).toEqual([])
    const summary = out.changes.map((c) => [c.audience, c.user, c.email, c.member, c.audienceClass, c.externalListId])
    expect(summary).toEqual([
      ["first_time_shopper", "u123", "ada@example.com", true, "audience", undefined],
      ["first_time_shopper", "u456", "grace@example.com", false, "audience", undefined],
      ["welcome_step_1", "u123", "ada@example.com", true, "journey_step", 1042],
      ["welcome_step_1", "u123", "ada.work@example.com", true, "journey_step", 1042]
    ])
    expect(out.withoutEmail).toEqual([{
      audience: "first_time_shopper",
      audienceClass: "audience",
      user: "u789",
      member: true,
      timestamp: Date.parse("2026-11-20T10:06:00.000Z"),
      messageId: "personas_7g8h"
    }])
  })

  it("accepts a single event and a plain JSON array", () => {
    expect(one(identify()).changes).toHaveLength(1)
    expect(one([identify(), identify({ messageId: "m2", userId: "u2" })]).changes).toHaveLength(2)
  })

  it("fans out arrays of emails and de-duplicates them case-insensitively", () => {
    const out = one(identify({ properties: { email: ["ADA@example.com", "b@example.com"] } }, { email: ["ada@example.com", " Ada@Example.COM"] }))
    expect(out.changes.map((c) => c.email)).toEqual(["ada@example.com", "b@example.com"])
  })

  it("takes the event name as membership when a track event has no membership property", () => {
    const exited = one({ type: "track", event: "Audience Exited", userId: "u1", messageId: "x", timestamp: "2026-11-20T10:00:00Z", properties: {}, context: { traits: { email: "a@b.co" }, personas: { computation_key: "k" } } })
    expect(exited.changes[0]?.member).toBe(false)
  })

  it("uses anonymousId when there is no userId, prefixed so the two never collide", () => {
    expect(one(identify({ userId: undefined, anonymousId: "a-1" })).changes[0]?.user).toBe("anon:a-1")
  })

  it("falls back from timestamp to originalTimestamp, sentAt, then the time received", () => {
    expect(one(identify({ timestamp: undefined, originalTimestamp: "2026-01-01T00:00:00Z" })).changes[0]?.timestamp).toBe(Date.parse("2026-01-01T00:00:00Z"))
    expect(one(identify({ timestamp: undefined, sentAt: "2026-01-02T00:00:00Z" })).changes[0]?.timestamp).toBe(Date.parse("2026-01-02T00:00:00Z"))
    expect(one(identify({ timestamp: undefined })).changes[0]?.timestamp).toBe(receivedAt)
  })

  it("derives a stable messageId when the sender gave none, so redeliveries still de-duplicate", () => {
    const a = one(identify({ messageId: undefined })).changes[0]?.messageId
    const b = one({ ...identify({ messageId: undefined }) }).changes[0]?.messageId
    const c = one(identify({ messageId: undefined, userId: "other" })).changes[0]?.messageId
    expect(a).toMatch(/^derived:[0-9a-f]{16}$/)
    expect(a).toBe(b)
    expect(a).not.toBe(c)
  })
})

describe("EventDecoder: rejections name the event and the problem", () => {
  const reasons = (event: unknown) => one([event]).rejected

  it("rejects bodies that are not JSON or not events", () => {
    expect(Either.getLeft(decodeEventsText("{nope", receivedAt)).pipe((l) => l._tag === "Some" && l.value.reason)).toMatch(/^the body is not JSON: /)
    expect(Either.isLeft(decodeEvents({ hello: 1 }, receivedAt))).toBe(true)
    expect(Either.getLeft(decodeEvents({ batch: [] }, receivedAt)).pipe((l) => l._tag === "Some" && l.value.reason)).toBe("the body holds no events")
    expect(Either.isLeft(decodeEvents("text", receivedAt))).toBe(true)
  })

  it("names each problem", () => {
    expect(reasons(identify({ context: {} }))).toEqual([{ index: 0, reason: "no audience key (context.personas.computation_key, properties.audience_key or traits.audience_key)" }])
    expect(reasons(identify({}, { vip: "yes" }))).toEqual([{ index: 0, reason: "membership traits.vip must be a boolean, got \"yes\"" }])
    expect(reasons(identify({ userId: undefined }))).toEqual([{ index: 0, reason: "no userId and no anonymousId" }])
    expect(reasons(identify({ timestamp: "yesterday" }))).toEqual([{ index: 0, reason: "timestamp \"yesterday\" is not an ISO 8601 date" }])
    expect(reasons(identify({ type: "page" }))).toEqual([{ index: 0, reason: "unsupported event type \"page\"" }])
    expect(reasons(42)).toEqual([{ index: 0, reason: "event is not a JSON object, got 42" }])
    expect(reasons(identify({ context: { personas: { computation_key: "vip", computation_class: "trait" } } }))).toEqual([
      { index: 0, reason: "context.personas.computation_class \"trait\" is not \"audience\" or \"journey_step\"" }
    ])
    expect(reasons(identify({ context: { personas: { computation_key: "vip", external_audience_id: "abc" } } }))).toEqual([
      { index: 0, reason: "context.personas.external_audience_id \"abc\" is not a Marketo list id" }
    ])
  })

  it("rejects invalid emails but keeps the event's valid ones", () => {
    const out = one([identify({}, { email: ["ok@example.com", "bad@@example.com"] })])
    expect(out.accepted).toBe(1)
    expect(out.changes.map((c) => c.email)).toEqual(["ok@example.com"])
    expect(out.rejected).toEqual([{ index: 0, reason: "email \"bad@@example.com\" is not a valid address" }])
    expect(reasons(identify({}, { email: "josé@example.com" }))).toEqual([{ index: 0, reason: "email \"josé@example.com\" contains non-ASCII characters" }])
    expect(one([identify({}, { email: "nope" })]).accepted).toBe(0)
  })

  it("accepts 999 of a thousand events when one is bad, naming its index", () => {
    const events = Array.from({ length: 1000 }, (_, i) => identify({ userId: `u${i}`, messageId: `m${i}` }, { email: `user${i}@example.com` }))
    events[500] = identify({ userId: "u500", messageId: "m500" }, { vip: "maybe" })
    const out = one({ batch: events })
    expect(out.accepted).toBe(999)
    expect(out.changes).toHaveLength(999)
    expect(out.rejected).toEqual([{ index: 500, reason: "membership traits.vip must be a boolean, got \"maybe\"" }])
  })

  it("reads __proto__ and constructor keys as data, never as prototypes", () => {
    const text = `{"type":"identify","userId":"u","messageId":"m","traits":{"__proto__":{"vip":true},"constructor":{"prototype":{"x":1}},"email":"a@b.co","vip":true},"context":{"personas":{"computation_key":"vip"}}}`
    const out = ok(text)
    expect(out.changes).toHaveLength(1)
    expect(({} as Record<string, unknown>)["vip"]).toBeUndefined()
  })

  it("never throws on arbitrary JSON, and always decides", () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
      const out = decodeEvents(value, receivedAt)
      return Either.isLeft(out) || Either.isRight(out)
    }), { numRuns: 500 })
    fc.assert(fc.property(fc.string(), (text) => {
      const out = decodeEventsText(text, receivedAt)
      return Either.isLeft(out) || Either.isRight(out)
    }), { numRuns: 300 })
  })

  it("never throws on event-shaped values with arbitrary fields", () => {
    const anyField = fc.oneof(fc.anything(), fc.string(), fc.boolean(), fc.constant(undefined))
    fc.assert(fc.property(anyField, anyField, anyField, anyField, (a, b, c, d) => {
      const event = { type: "identify", userId: a, timestamp: b, traits: { email: c, k: d }, context: { personas: { computation_key: "k", external_audience_id: d } } }
      const out = decodeEvents(event, receivedAt)
      return Either.isRight(out) && out.right.events === 1
    }), { numRuns: 500 })
  })
})
