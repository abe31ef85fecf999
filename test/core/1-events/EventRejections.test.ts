// Every rejection names the event (by index) and what was wrong with it; nothing throws.
import { describe, expect, it } from "@effect/vitest"
import { changesOf, withoutEmailOf } from "../../../core/1-events/EventDecoder.js"
import { Either } from "effect"
import fc from "fast-check"
import { decodeEvents, decodeEventsText } from "../../../core/1-events/EventDecoder.js"
import { asRows, bodyRejection, decoded, fixture, fromFixture, identify, one, reasons, receivedAt } from "./DecoderFixtures.js"

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
    expect(changesOf(out).map((c) => [c.user, c.email, c.member])).toEqual([
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
    ["list id of 16 digits (not a safe integer)", identify({ context: { personas: { computation_key: "vip", external_audience_id: "9999999999999999" } } }), "context.personas.external_audience_id \"9999999999999999\" is not a Marketo list id (a positive integer)"],
    ["list id a number past the safe integers", identify({ context: { personas: { computation_key: "vip", external_audience_id: 2 ** 53 + 2 } } }), `context.personas.external_audience_id ${2 ** 53 + 2} is not a Marketo list id (a positive integer)`],
    ["stamped more than 24 hours after it arrived", identify({ timestamp: "2026-11-24T00:00:01Z" }), "timestamp 2026-11-24T00:00:01Z is more than 24 hours after the event arrived (2026-11-23T00:00:00.000Z)"],
    ["audience key of 250 percent signs", identify({ context: { personas: { computation_key: "%".repeat(250) } } }, { ["%".repeat(250)]: true }), "audience key takes 750 bytes once percent-encoded for storage; at most 400 fit within Workers KV's 512-byte key limit"],
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
    expect(changesOf(some).map((c) => c.email)).toEqual(["ok@example.com"])
    expect(some.rejected).toEqual([{ index: 0, reason: "traits.email[1]: email \"bad@@example.com\" is not a valid address: it has more than one @" }])

    const none = one([identify({ properties: { email: "nope" } }, { email: ["bad@@example.com"] })])
    expect(asRows(none)).toMatchObject({ accepted: 0, changes: [], withoutEmail: [] })
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
    expect(changesOf(out).map((c) => c.email)).toEqual(["x@example.com"])
    expect(out.rejected).toEqual([{ index: 0, reason: "context.externalIds[1].id must be a string or an array of strings, got 5" }])
  })

  it("caps the emails of one event", () => {
    const emails = Array.from({ length: 101 }, (_, i) => `p${i}@example.com`)
    expect(reasons(identify({}, { email: emails }))).toEqual(["the event carries 101 email values; at most 100 are accepted"])
    expect(changesOf(one(identify({}, { email: emails.slice(0, 100) })))).toHaveLength(100)
  })

  it("accepts 999 of a thousand events when one is bad, naming its index", () => {
    const events = Array.from({ length: 1000 }, (_, i) => identify({ userId: `u${i}`, messageId: `m${i}` }, { email: `user${i}@example.com` }))
    events[500] = identify({ userId: "u500", messageId: "m500" }, { vip: "maybe" })
    const out = one({ batch: events })
    expect(asRows(out)).toMatchObject({ events: 1000, accepted: 999 })
    expect(changesOf(out)).toHaveLength(999)
    expect(changesOf(out).some((c) => c.user === "u500")).toBe(false)
    expect(out.rejected).toEqual([{ index: 500, reason: "membership traits.vip must be a boolean, got \"maybe\"" }])
  })

  it("reads __proto__ and constructor keys as data, never as prototypes", () => {
    const text = `{"type":"identify","userId":"u","messageId":"m","traits":{"__proto__":{"vip":true},"constructor":{"prototype":{"x":1}},"email":"a@b.co","vip":false},"context":{"__proto__":{"personas":{"computation_key":"evil"}},"personas":{"computation_key":"vip"}}}`
    const out = decoded(decodeEventsText(text, receivedAt))
    expect(changesOf(out).map((c) => [c.audience, c.member])).toEqual([["vip", false]])
    expect(({} as Record<string, unknown>)["vip"]).toBeUndefined()
    expect(({} as Record<string, unknown>)["personas"]).toBeUndefined()
    // A membership named "__proto__" or "constructor" is looked up as an own field, not inherited.
    const proto = `{"type":"identify","userId":"u","traits":{"email":"a@b.co"},"context":{"personas":{"computation_key":"constructor"}}}`
    expect(decoded(decodeEventsText(proto, receivedAt)).rejected).toEqual([{ index: 0, reason: "membership traits.constructor is missing" }])
    const protoKey = `{"type":"identify","userId":"u","traits":{"email":"a@b.co","__proto__":true},"context":{"personas":{"computation_key":"__proto__"}}}`
    expect(changesOf(decoded(decodeEventsText(protoKey, receivedAt))).map((c) => c.member)).toEqual([true])
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
        const { accepted, rejected } = out.right
        const changes = changesOf(out.right)
        const withoutEmail = withoutEmailOf(out.right)
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
      expect(changesOf(out).map((c) => c.email)).toEqual(emails)
      expect(out.rejected).toEqual([])
    },
    { fastCheck: { numRuns: 200 } }
  )
})
