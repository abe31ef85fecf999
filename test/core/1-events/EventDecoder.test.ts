// Segment payloads as they arrive: every shape decodes to one membership change per distinct email.
import { describe, expect, it } from "@effect/vitest"
import { changesOf, withoutEmailOf } from "../../../core/1-events/EventDecoder.js"
import { onTestFinished } from "vitest"
import { asRows, at, fixture, fromFixture, identify, one, receivedAt, rows } from "./DecoderFixtures.js"

describe("EventDecoder: Segment payloads", () => {
  it("decodes an Engage identify: membership from traits, email trimmed and lower-cased", () => {
    const out = fromFixture("identify-audience.json")
    expect(asRows(out)).toMatchObject({ events: 1, accepted: 1, rejected: [], withoutEmail: [] })
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
    expect(asRows(out)).toMatchObject({ events: 4, accepted: 4, rejected: [] })
    expect(changesOf(out).map((c) => [c.audience, c.user, c.email, c.member, c.audienceClass, c.externalListId])).toEqual([
      ["first_time_shopper", "u123", "ada@example.com", true, "audience", undefined],
      ["first_time_shopper", "u456", "grace@example.com", false, "audience", undefined],
      ["welcome_step_1", "u123", "ada@example.com", true, "journey_step", 1042],
      ["welcome_step_1", "u123", "ada.work@example.com", true, "journey_step", 1042]
    ])
    expect(withoutEmailOf(out)).toEqual([{
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
    expect(changesOf(out).map((c) => [c.user, c.email, c.member])).toEqual([
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
    expect(asRows(out)).toMatchObject({ events: 1, accepted: 1, rejected: [] })
    expect(changesOf(out).map((c) => c.email)).toEqual(["ada@example.com", "ada.work@example.com", "lovelace@example.org"])
    for (const change of changesOf(out)) {
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
    expect(changesOf(fromFixture("anonymous-only.json")).map((c) => c.user)).toEqual(["anon:8c4b7a1e-1f0e-4a9b-9a53-2b3c4d5e6f70"])
    expect(changesOf(one(identify({ userId: null, anonymousId: "a-1" }))).map((c) => c.user)).toEqual(["anon:a-1"])
    expect(changesOf(one(identify({ userId: "", anonymousId: 42 }))).map((c) => c.user)).toEqual(["anon:42"])
    expect(changesOf(one(identify({ userId: 7 }))).map((c) => c.user)).toEqual(["7"])
  })

  it("falls back from timestamp to originalTimestamp, sentAt, then the time received", () => {
    const out = fromFixture("timestamp-fallbacks.json")
    expect(changesOf(out).map((c) => [c.user, c.timestamp])).toEqual([
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
    const time = (timestamp: string) => changesOf(one(identify({ timestamp }))).map((c) => c.timestamp)
    expect(time("2026-11-20T10:00:00")).toEqual([at("2026-11-20T10:00:00Z")])
    expect(time("2026-11-20T10:00")).toEqual([at("2026-11-20T10:00:00Z")])
    expect(time("2026-11-20")).toEqual([at("2026-11-20T00:00:00Z")])
    expect(time("2026-11-20T10:00:00.123456Z")).toEqual([at("2026-11-20T10:00:00.123Z")])
    expect(time("2026-11-20T10:00:00+0530")).toEqual([at("2026-11-20T04:30:00Z")])
    expect(time("2024-02-29T00:00:00Z")).toEqual([at("2024-02-29T00:00:00Z")])
  })

  it("derives a stable messageId when the sender gave none, so redeliveries still de-duplicate", () => {
    const first = changesOf(fromFixture("no-message-id.json")).map((c) => c.messageId)
    const again = changesOf(fromFixture("no-message-id.json")).map((c) => c.messageId)
    expect(first).toHaveLength(1)
    expect(first[0]).toMatch(/^derived:[0-9a-f]{16}$/)
    expect(again).toEqual(first)
    // Key order does not matter (canonical JSON); content does.
    const event = JSON.parse(fixture("no-message-id.json")) as Record<string, unknown>
    const reordered = Object.fromEntries(Object.entries(event).reverse())
    expect(changesOf(one(reordered)).map((c) => c.messageId)).toEqual(first)
    expect(changesOf(one({ ...event, userId: "someone-else" })).map((c) => c.messageId)).not.toEqual(first)
    expect(changesOf(one(identify({ messageId: null })))[0]?.messageId).toMatch(/^derived:/)
  })

  it("accepts a single event, a plain array and {batch}, with the same result", () => {
    const event = identify()
    expect(rows(one(event))).toEqual(rows(one([event])))
    expect(rows(one({ batch: [event] }))).toEqual(rows(one([event])))
    expect(changesOf(one([identify(), identify({ messageId: "m2", userId: "u2" })]))).toHaveLength(2)
  })

  it("counts a member without email instead of rejecting it", () => {
    const out = one(identify({}, { email: undefined }))
    expect(asRows(out)).toMatchObject({ events: 1, accepted: 1, changes: [], rejected: [] })
    expect(withoutEmailOf(out)).toEqual([{
      audience: "vip", audienceClass: "audience", user: "u1", member: true, timestamp: at("2026-11-20T10:00:00Z"), messageId: "m1"
    }])
    expect(withoutEmailOf(one(identify({}, { email: null })))).toHaveLength(1)
    expect(withoutEmailOf(one(identify({}, { email: [] })))).toHaveLength(1)
  })

  it("falls back to properties.audience_key, then traits.audience_key", () => {
    const viaProperties = identify({ context: {}, properties: { audience_key: "vip" } })
    expect(changesOf(one(viaProperties)).map((c) => c.audience)).toEqual(["vip"])
    const viaTraits = identify({ context: undefined }, { audience_key: "vip" })
    expect(changesOf(one(viaTraits)).map((c) => c.audience)).toEqual(["vip"])
  })
})
