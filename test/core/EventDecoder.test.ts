import { describe, expect, it } from "@effect/vitest"
import { onTestFinished } from "vitest"
import { Either } from "effect"
import fc from "fast-check"
import { readFileSync } from "node:fs"
import { type DecodedEvents, decodeEvents, decodeEventsText } from "../../core/EventDecoder.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/segment/${name}`, import.meta.url), "utf8")
const receivedAt = Date.parse("2026-11-21T00:00:00Z")
const at = (iso: string) => Date.parse(iso)

const decoded = (result: Either.Either<DecodedEvents, { readonly reason: string }>): DecodedEvents => {
  if (Either.isLeft(result)) throw new Error(`expected events, got BodyRejected: ${result.left.reason}`)
  return result.right
}
const fromFixture = (name: string) => decoded(decodeEventsText(fixture(name), receivedAt))
const one = (body: unknown) => decoded(decodeEvents(body, receivedAt))
const bodyRejection = (result: Either.Either<DecodedEvents, { readonly reason: string }>) =>
  Either.isLeft(result) ? result.left.reason : "accepted"
/** Changes as plain rows, easy to compare whole. */
const rows = (out: DecodedEvents) => out.changes.map((c) => ({ ...c }))

const identify = (overrides: Record<string, unknown> = {}, traits: Record<string, unknown> = {}) => ({
  type: "identify",
  userId: "u1",
  messageId: "m1",
  timestamp: "2026-11-20T10:00:00Z",
  traits: { email: "ada@example.com", vip: true, ...traits },
  context: { personas: { computation_key: "vip", computation_class: "audience" } },
  ...overrides
})
const reasons = (event: unknown) => one([event]).rejected.map((r) => r.reason)

describe("EventDecoder: Segment payloads", () => {
  it("decodes an Engage identify: membership from traits, email trimmed and lower-cased", () => {
    const out = fromFixture("identify-audience.json")
    expect(out).toMatchObject({ events: 1, accepted: 1, rejected: [], withoutEmail: [] })
    expect(rows(out)).toEqual([{
      audience: "first_time_shopper",
      audienceClass: "audience",
      user: "u123",
      email: "ada@example.com",
      member: true,
      timestamp: at("2026-11-20T10:00:00.000Z"),
      messageId: "personas_1a2b"
    }])
  })

  it("decodes a single Engage track event: membership from properties, email from context.traits, timestamp first", () => {
    const out = fromFixture("track-entered.json")
    expect(rows(out)).toEqual([{
      audience: "first_time_shopper",
      audienceClass: "audience",
      user: "u123",
      email: "ada@example.com",
      member: true,
      timestamp: at("2026-11-20T10:00:00.000Z"),
      messageId: "personas_3c4d"
    }])
  })

  it("decodes a {batch}: entered, exited, a member without email, a journey step with externalIds", () => {
    const out = fromFixture("track-batch.json")
    expect(out).toMatchObject({ events: 4, accepted: 4, rejected: [] })
    expect(out.changes.map((c) => [c.audience, c.user, c.email, c.member, c.audienceClass, c.externalListId])).toEqual([
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
      timestamp: at("2026-11-20T10:06:00.000Z"),
      messageId: "personas_7g8h"
    }])
  })

  it("lets the event name decide when a track event has no membership property (a plain JSON array)", () => {
    const out = fromFixture("track-exited-by-name.json")
    expect(out.changes.map((c) => [c.user, c.email, c.member])).toEqual([
      ["u123", "ada@example.com", false],
      ["u456", "grace@example.com", true]
    ])
  })

  it("decodes a journey step: class kept, external_audience_id as a list id", () => {
    const out = fromFixture("journey-step.json")
    expect(rows(out)).toEqual([{
      audience: "onboarding__step_2_welcome_email",
      audienceClass: "journey_step",
      user: "u321",
      email: "linus@example.com",
      member: true,
      timestamp: at("2026-11-21T07:15:00.000Z"),
      messageId: "personas_js_1",
      externalListId: 3055
    }])
  })

  it("fans out every email of an event (traits, properties, externalIds, arrays): one change per distinct address", () => {
    const out = fromFixture("several-emails.json")
    expect(out).toMatchObject({ events: 1, accepted: 1, rejected: [] })
    expect(out.changes.map((c) => c.email)).toEqual(["ada@example.com", "ada.work@example.com", "lovelace@example.org"])
    for (const change of out.changes) {
      expect(change).toMatchObject({
        audience: "high_value",
        user: "u900",
        member: true,
        messageId: "personas_multi_1",
        externalListId: 2001,
        timestamp: at("2026-11-20T11:00:00Z") // +01:00 offset honoured
      })
    }
  })

  it("uses anonymousId when there is no userId, prefixed so the two never collide", () => {
    expect(fromFixture("anonymous-only.json").changes.map((c) => c.user)).toEqual(["anon:8c4b7a1e-1f0e-4a9b-9a53-2b3c4d5e6f70"])
    expect(one(identify({ userId: null, anonymousId: "a-1" })).changes.map((c) => c.user)).toEqual(["anon:a-1"])
    expect(one(identify({ userId: "", anonymousId: 42 })).changes.map((c) => c.user)).toEqual(["anon:42"])
    expect(one(identify({ userId: 7 })).changes.map((c) => c.user)).toEqual(["7"])
  })

  it("falls back from timestamp to originalTimestamp, sentAt, then the time received", () => {
    const out = fromFixture("timestamp-fallbacks.json")
    expect(out.changes.map((c) => [c.user, c.timestamp])).toEqual([
      ["t1", at("2026-11-19T23:00:00.000Z")],
      ["t2", at("2026-11-19T23:30:00.000Z")],
      ["t3", receivedAt],
      ["t4", at("2026-11-20T03:00:00.000Z")]
    ])
  })

  it("reads ISO 8601 dates the same on every host: no offset means UTC, fractions beyond ms truncated", () => {
    // Run in a zone far from UTC, where Date.parse would read "2026-11-20T10:00:00" as local time.
    const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env
    const zone = env["TZ"]
    env["TZ"] = "Pacific/Auckland"
    onTestFinished(() => {
      if (zone === undefined) delete env["TZ"]
      else env["TZ"] = zone
    })
    expect(Date.parse("2026-11-20T10:00:00")).not.toBe(at("2026-11-20T10:00:00Z"))
    const time = (timestamp: string) => one(identify({ timestamp })).changes.map((c) => c.timestamp)
    expect(time("2026-11-20T10:00:00")).toEqual([at("2026-11-20T10:00:00Z")])
    expect(time("2026-11-20T10:00")).toEqual([at("2026-11-20T10:00:00Z")])
    expect(time("2026-11-20")).toEqual([at("2026-11-20T00:00:00Z")])
    expect(time("2026-11-20T10:00:00.123456Z")).toEqual([at("2026-11-20T10:00:00.123Z")])
    expect(time("2026-11-20T10:00:00+0530")).toEqual([at("2026-11-20T04:30:00Z")])
    expect(time("2028-02-29T00:00:00Z")).toEqual([at("2028-02-29T00:00:00Z")])
  })

  it("derives a stable messageId when the sender gave none, so redeliveries still de-duplicate", () => {
    const first = fromFixture("no-message-id.json").changes.map((c) => c.messageId)
    const again = fromFixture("no-message-id.json").changes.map((c) => c.messageId)
    expect(first).toHaveLength(1)
    expect(first[0]).toMatch(/^derived:[0-9a-f]{16}$/)
    expect(again).toEqual(first)
    // Key order does not matter (canonical JSON); content does.
    const event = JSON.parse(fixture("no-message-id.json")) as Record<string, unknown>
    const reordered = Object.fromEntries(Object.entries(event).reverse())
    expect(one(reordered).changes.map((c) => c.messageId)).toEqual(first)
    expect(one({ ...event, userId: "someone-else" }).changes.map((c) => c.messageId)).not.toEqual(first)
    expect(one(identify({ messageId: null })).changes[0]?.messageId).toMatch(/^derived:/)
  })

  it("accepts a single event, a plain array and {batch}, with the same result", () => {
    const event = identify()
    expect(rows(one(event))).toEqual(rows(one([event])))
    expect(rows(one({ batch: [event] }))).toEqual(rows(one([event])))
    expect(one([identify(), identify({ messageId: "m2", userId: "u2" })]).changes).toHaveLength(2)
  })

  it("counts a member without email instead of rejecting it", () => {
    const out = one(identify({}, { email: undefined }))
    expect(out).toMatchObject({ events: 1, accepted: 1, changes: [], rejected: [] })
    expect(out.withoutEmail).toEqual([{
      audience: "vip", audienceClass: "audience", user: "u1", member: true, timestamp: at("2026-11-20T10:00:00Z"), messageId: "m1"
    }])
    expect(one(identify({}, { email: null })).withoutEmail).toHaveLength(1)
    expect(one(identify({}, { email: [] })).withoutEmail).toHaveLength(1)
  })

  it("falls back to properties.audience_key, then traits.audience_key", () => {
    const viaProperties = identify({ context: {}, properties: { audience_key: "vip" } })
    expect(one(viaProperties).changes.map((c) => c.audience)).toEqual(["vip"])
    const viaTraits = identify({ context: undefined }, { audience_key: "vip" })
    expect(one(viaTraits).changes.map((c) => c.audience)).toEqual(["vip"])
  })
})

describe("EventDecoder: rejections name the event and the problem", () => {
  it("rejects bodies that are not JSON, saying where parsing stopped", () => {
    expect(bodyRejection(decodeEventsText(fixture("broken-not-json.json"), receivedAt))).toMatch(
      /^the body is not JSON: .*(position \d+|end of JSON input)/
    )
    expect(bodyRejection(decodeEventsText("{nope", receivedAt))).toMatch(/^the body is not JSON: .*position 1/)
    expect(bodyRejection(decodeEventsText("", receivedAt))).toBe("the body is not JSON: Unexpected end of JSON input")
  })

  it("rejects bodies of the wrong shape", () => {
    const shape = "the body must be an event object, a JSON array of events, or {\"batch\": [...]}"
    expect(bodyRejection(decodeEventsText(fixture("broken-top-shape.json"), receivedAt))).toBe(
      `${shape}; got an object with neither "type" nor "batch"`
    )
    expect(bodyRejection(decodeEvents("text", receivedAt))).toBe(`${shape}; got "text"`)
    expect(bodyRejection(decodeEvents(null, receivedAt))).toBe(`${shape}; got null`)
    expect(bodyRejection(decodeEvents(12, receivedAt))).toBe(`${shape}; got 12`)
    expect(bodyRejection(decodeEvents({ batch: {} }, receivedAt))).toBe("\"batch\" must be an array of events, got {}")
    expect(bodyRejection(decodeEvents({ batch: [] }, receivedAt))).toBe("the body holds no events")
    expect(bodyRejection(decodeEvents([], receivedAt))).toBe("the body holds no events")
  })

  it("names each problem of a batch by index, and keeps the valid events", () => {
    const out = fromFixture("broken-events.json")
    expect(out.events).toBe(13)
    expect(out.accepted).toBe(2)
    expect(out.changes.map((c) => [c.user, c.email, c.member])).toEqual([
      ["ok1", "ok1@example.com", true],
      ["ok11", "ok11@example.com", false]
    ])
    expect(out.rejected).toEqual([
      { index: 1, reason: "no audience key (context.personas.computation_key, properties.audience_key or traits.audience_key)" },
      { index: 2, reason: "membership traits.vip must be a boolean, got \"yes\"" },
      { index: 3, reason: "no userId and no anonymousId" },
      { index: 4, reason: "timestamp \"yesterday\" is not an ISO 8601 date" },
      { index: 5, reason: "unsupported event type \"page\"" },
      { index: 6, reason: "traits.email: email \"b6@@example.com\" is not a valid address: it has more than one @" },
      { index: 7, reason: "traits.email: email \"zoë@example.com\" contains non-ASCII characters" },
      { index: 8, reason: "context.personas.computation_class \"trait\" is not \"audience\" or \"journey_step\"" },
      { index: 9, reason: "context.personas.external_audience_id \"list-7\" is not a Marketo list id (a positive integer)" },
      { index: 10, reason: "membership properties.vip is missing" },
      { index: 11, reason: "traits.email[1]: email \"not-an-email\" is not a valid address: it has no @" },
      { index: 12, reason: "the event must be a JSON object, got \"identify\"" }
    ])
  })

  it.each<[string, unknown, string]>([
    ["type missing", { ...identify(), type: undefined }, "unsupported event type undefined"],
    ["type a number", identify({ type: 3 }), "unsupported event type 3"],
    ["userId an object", identify({ userId: { id: 1 } }), "userId must be a string or a number, got {\"id\":1}"],
    ["messageId too long", identify({ messageId: "m".repeat(1001) }), "messageId is longer than 1000 characters"],
    ["userId too long", identify({ userId: "u".repeat(1001) }), "userId is longer than 1000 characters"],
    ["audience key too long", identify({ context: { personas: { computation_key: "k".repeat(1001) } } }), "context.personas.computation_key is longer than 1000 characters"],
    ["audience key over 255", identify({ context: { personas: { computation_key: "k".repeat(256) } } }), "audience key is longer than 255 characters"],
    ["properties.audience_key over 255", identify({ context: {}, properties: { audience_key: "k".repeat(256) } }), "audience key is longer than 255 characters"],
    ["audience key blank", identify({ context: { personas: { computation_key: "   " } } }), "no audience key (context.personas.computation_key, properties.audience_key or traits.audience_key)"],
    ["computation_key a number", identify({ context: { personas: { computation_key: 5 } } }), "context.personas.computation_key must be a string, got 5"],
    ["context not an object", identify({ context: "ctx" }), "context must be an object, got \"ctx\""],
    ["personas not an object", identify({ context: { personas: [] } }), "context.personas must be an object, got []"],
    ["traits an array", identify({ traits: ["vip"] }), "traits must be an object, got [\"vip\"]"],
    ["externalIds not an array", identify({ context: { personas: { computation_key: "vip" }, externalIds: {} } }), "context.externalIds must be an array, got {}"],
    ["list id zero", identify({ context: { personas: { computation_key: "vip", external_audience_id: 0 } } }), "context.personas.external_audience_id 0 is not a Marketo list id (a positive integer)"],
    ["list id fractional", identify({ context: { personas: { computation_key: "vip", external_audience_id: 1.5 } } }), "context.personas.external_audience_id 1.5 is not a Marketo list id (a positive integer)"],
    ["membership a string", identify({}, { vip: "true" }), "membership traits.vip must be a boolean, got \"true\""],
    ["membership missing on identify", identify({}, { vip: undefined }), "membership traits.vip is missing"],
    ["timestamp a number", identify({ timestamp: 1763632800000 }), "timestamp 1763632800000 is not an ISO 8601 date"],
    ["date that does not exist", identify({ timestamp: "2026-02-30T10:00:00Z" }), "timestamp \"2026-02-30T10:00:00Z\" is not an ISO 8601 date"],
    ["hour 25", identify({ timestamp: "2026-11-20T25:00:00Z" }), "timestamp \"2026-11-20T25:00:00Z\" is not an ISO 8601 date"],
    ["bad originalTimestamp", identify({ timestamp: undefined, originalTimestamp: "Fri, 20 Nov 2026 10:00:00 GMT" }), "originalTimestamp \"Fri, 20 Nov 2026 10:00:00 GMT\" is not an ISO 8601 date"],
    ["email not a string", identify({}, { email: 12 }), "traits.email must be a string or an array of strings, got 12"],
    ["email too long", identify({}, { email: `${"a".repeat(64)}@${"b".repeat(200)}.com` }), `traits.email: email "${"a".repeat(64)}@${"b".repeat(12)}..." is longer than 254 characters`],
    ["not an object", 42, "the event must be a JSON object, got 42"]
  ])("rejects an event when %s", (_, event, reason) => {
    expect(reasons(event)).toEqual([reason])
    expect(one([event]).accepted).toBe(0)
  })

  it("rejects invalid emails but keeps the event's valid ones; all invalid rejects the event", () => {
    const some = one([identify({}, { email: ["ok@example.com", "bad@@example.com"] })])
    expect(some.accepted).toBe(1)
    expect(some.changes.map((c) => c.email)).toEqual(["ok@example.com"])
    expect(some.rejected).toEqual([{ index: 0, reason: "traits.email[1]: email \"bad@@example.com\" is not a valid address: it has more than one @" }])

    const none = one([identify({ properties: { email: "nope" } }, { email: ["bad@@example.com"] })])
    expect(none).toMatchObject({ accepted: 0, changes: [], withoutEmail: [] })
    expect(none.rejected).toEqual([
      { index: 0, reason: "traits.email[0]: email \"bad@@example.com\" is not a valid address: it has more than one @" },
      { index: 0, reason: "properties.email: email \"nope\" is not a valid address: it has no @" }
    ])
  })

  it("reads an externalIds email entry with a bad id as an invalid email of that entry", () => {
    const event = identify({
      context: {
        personas: { computation_key: "vip" },
        externalIds: [null, { type: "email", id: 5 }, { type: "email", id: "x@example.com" }, "junk"]
      }
    }, { email: undefined })
    const out = one([event])
    expect(out.changes.map((c) => c.email)).toEqual(["x@example.com"])
    expect(out.rejected).toEqual([{ index: 0, reason: "context.externalIds[1].id must be a string or an array of strings, got 5" }])
  })

  it("caps the emails of one event", () => {
    const emails = Array.from({ length: 101 }, (_, i) => `p${i}@example.com`)
    expect(reasons(identify({}, { email: emails }))).toEqual(["the event carries 101 email values; at most 100 are accepted"])
    expect(one(identify({}, { email: emails.slice(0, 100) })).changes).toHaveLength(100)
  })

  it("accepts 999 of a thousand events when one is bad, naming its index", () => {
    const events = Array.from({ length: 1000 }, (_, i) => identify({ userId: `u${i}`, messageId: `m${i}` }, { email: `user${i}@example.com` }))
    events[500] = identify({ userId: "u500", messageId: "m500" }, { vip: "maybe" })
    const out = one({ batch: events })
    expect(out).toMatchObject({ events: 1000, accepted: 999 })
    expect(out.changes).toHaveLength(999)
    expect(out.changes.some((c) => c.user === "u500")).toBe(false)
    expect(out.rejected).toEqual([{ index: 500, reason: "membership traits.vip must be a boolean, got \"maybe\"" }])
  })

  it("reads __proto__ and constructor keys as data, never as prototypes", () => {
    const text = `{"type":"identify","userId":"u","messageId":"m","traits":{"__proto__":{"vip":true},"constructor":{"prototype":{"x":1}},"email":"a@b.co","vip":false},"context":{"__proto__":{"personas":{"computation_key":"evil"}},"personas":{"computation_key":"vip"}}}`
    const out = decoded(decodeEventsText(text, receivedAt))
    expect(out.changes.map((c) => [c.audience, c.member])).toEqual([["vip", false]])
    expect(({} as Record<string, unknown>)["vip"]).toBeUndefined()
    expect(({} as Record<string, unknown>)["personas"]).toBeUndefined()
    // A membership named "__proto__" or "constructor" is looked up as an own field, not inherited.
    const proto = `{"type":"identify","userId":"u","traits":{"email":"a@b.co"},"context":{"personas":{"computation_key":"constructor"}}}`
    expect(decoded(decodeEventsText(proto, receivedAt)).rejected).toEqual([{ index: 0, reason: "membership traits.constructor is missing" }])
    const protoKey = `{"type":"identify","userId":"u","traits":{"email":"a@b.co","__proto__":true},"context":{"personas":{"computation_key":"__proto__"}}}`
    expect(decoded(decodeEventsText(protoKey, receivedAt)).changes.map((c) => c.member)).toEqual([true])
  })

  it("rejects a deeply nested body without throwing", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`
    const out = decodeEventsText(deep, receivedAt)
    expect(Either.isLeft(out) || out.right.accepted === 0).toBe(true)
  })

  it.prop("never throws on arbitrary JSON, and always decides", [fc.jsonValue({ maxDepth: 6 })], ([value]) => {
    const out = decodeEvents(value, receivedAt)
    expect(Either.isLeft(out) || Either.isRight(out)).toBe(true)
    if (Either.isRight(out)) expect(out.right.accepted).toBeLessThanOrEqual(out.right.events)
  }, { fastCheck: { numRuns: 500 } })

  it.prop("never throws on arbitrary text", [fc.oneof(fc.string(), fc.json())], ([text]) => {
    const out = decodeEventsText(text, receivedAt)
    expect(Either.isLeft(out) || Either.isRight(out)).toBe(true)
  }, { fastCheck: { numRuns: 300 } })

  it.prop(
    "never throws on event-shaped values with arbitrary fields, and judges every event",
    [fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.anything()],
    ([userId, timestamp, email, member, listId]) => {
      const event = {
        type: "track",
        event: "Audience Entered",
        userId,
        timestamp,
        properties: { k: member, email },
        context: { traits: { email }, externalIds: [{ type: "email", id: email }], personas: { computation_key: "k", external_audience_id: listId } }
      }
      const out = decodeEvents([event, event], receivedAt)
      expect(Either.isRight(out)).toBe(true)
      if (Either.isRight(out)) {
        const { accepted, changes, withoutEmail, rejected } = out.right
        expect(accepted === 0 || accepted === 2).toBe(true)
        // Every event is either accepted (changes or a member without email) or rejected with a reason.
        expect(accepted === 2 ? changes.length + withoutEmail.length > 0 : rejected.length > 0).toBe(true)
        for (const r of rejected) expect(r.reason.length).toBeGreaterThan(0)
      }
    },
    { fastCheck: { numRuns: 500 } }
  )

  it.prop(
    "yields one change per distinct valid email, whatever the case and spacing",
    [fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/), { minLength: 1, maxLength: 8 })],
    ([locals]) => {
      const emails = locals.map((l) => `${l}@example.com`)
      const noisy = emails.flatMap((e) => [e.toUpperCase(), ` ${e} `])
      const out = one(identify({ properties: { email: noisy } }, { email: emails }))
      expect(out.changes.map((c) => c.email)).toEqual(emails)
      expect(out.rejected).toEqual([])
    },
    { fastCheck: { numRuns: 200 } }
  )
})
