import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { changesOf, decodeEvents } from "../../../core/1-events/EventDecoder.js"
import {
  defaultLeadFieldsSetting,
  fieldValuesOf,
  type LeadFieldMapping,
  maxFieldValueLength,
  parseLeadFieldMapping
} from "../../../core/1-events/LeadFields.js"
import { MembershipEvent } from "../../../core/1-events/MembershipChange.js"
import { fixture, identify, receivedAt } from "./DecoderFixtures.js"

const mapping = (text: string): LeadFieldMapping => Either.getOrThrow(parseLeadFieldMapping(text))
const problem = (text: string) => Either.match(parseLeadFieldMapping(text), { onLeft: (p) => p, onRight: () => "valid" })
const names = mapping("firstName=firstName|first_name,lastName=lastName|last_name,city=address.city")
const decode = (body: unknown, m: LeadFieldMapping = names) => Either.getOrThrow(decodeEvents(body, receivedAt, m))

describe("lead field mapping (MARKETO_LEAD_FIELDS)", () => {
  it("reads marketoField=trait pairs, fallbacks with |, and none", () => {
    expect(mapping(defaultLeadFieldsSetting)).toEqual([
      { field: "firstName", traits: ["firstName"] },
      { field: "lastName", traits: ["lastName"] }
    ])
    expect(mapping(" firstName = firstName | first_name , Company_Size__c=company.employee_count")).toEqual([
      { field: "firstName", traits: ["firstName", "first_name"] },
      { field: "Company_Size__c", traits: ["company.employee_count"] }
    ])
    expect(mapping("none")).toEqual([])
  })

  it("names what is wrong with a pair", () => {
    expect(problem("firstName")).toBe("\"firstName\" is not a marketoField=trait pair")
    expect(problem("first name=x")).toMatch(/"first name" is not a Marketo REST field name/)
    expect(problem("constructor=x")).toMatch(/is not a Marketo REST field name/)
    expect(problem("__proto__=x")).toMatch(/is not a Marketo REST field name/)
    expect(problem("Email=work_email")).toMatch(/Email is not mappable/)
    expect(problem("firstName=a,firstName=b")).toMatch(/firstName is mapped twice/)
    expect(problem("firstName=name,lastName=name")).toMatch(/trait "name" is already mapped to firstName/)
    expect(problem("firstName=a||b")).toMatch(/each trait must be 1 to 255 characters/)
    expect(problem(Array.from({ length: 21 }, (_, i) => `f${i}=t${i}`).join(","))).toBe("maps 21 fields; at most 20 are allowed")
  })
})

describe("lead field values of an event", () => {
  it("takes the mapped traits of an identify, the first fallback with a value, trimmed", () => {
    const out = decode([identify({}, { firstName: "  ", first_name: " Ada ", lastName: "Lovelace", address: { city: "London" }, plan: "gold" })])
    expect(out.memberships[0]!.fields).toEqual({ firstName: "Ada", lastName: "Lovelace", city: "London" })
  })

  it("takes context.traits of a track event, not its properties", () => {
    const track = {
      type: "track",
      event: "Audience Entered",
      userId: "u1",
      messageId: "t1",
      timestamp: "2026-11-20T10:00:00Z",
      properties: { audience_key: "vip", vip: true, firstName: "Not this" },
      context: { traits: { email: "ada@example.com", firstName: "Ada" }, personas: { computation_key: "vip" } }
    }
    expect(decode([track]).memberships[0]!.fields).toEqual({ firstName: "Ada" })
  })

  it("numbers and booleans become text; empty, null, objects and arrays are no value", () => {
    const m = mapping("a=a,b=b,c=c,d=d,e=e,f=f,g=g")
    expect(fieldValuesOf({ a: 42, b: false, c: "", d: null, e: { x: 1 }, f: ["x"], g: Number.NaN }, m)).toEqual({ a: "42", b: "false" })
    expect(fieldValuesOf({ z: "x" }, m)).toBeUndefined()
    expect(decode([identify({}, { firstName: "" })]).memberships[0]!.fields).toBeUndefined()
  })

  it("cuts a long value at 255 characters without splitting one", () => {
    const long = "😀".repeat(300)
    const value = fieldValuesOf({ firstName: long }, names)!["firstName"]!
    expect(Array.from(value)).toHaveLength(maxFieldValueLength)
    expect(value).toBe("😀".repeat(255))
  })

  it("reads own traits only: inherited names are never followed", () => {
    const traits = JSON.parse("{\"__proto__\": {\"firstName\": \"Mallory\"}}") as unknown
    expect(fieldValuesOf(traits, names)).toBeUndefined()
  })

  it("gives every email of a member with several emails the member's fields; none without an email or a mapping", () => {
    const several = JSON.parse(fixture("several-emails.json")) as Record<string, unknown>
    const withNames = { ...several, traits: { ...(several["traits"] as object), firstName: "Ada", lastName: "Lovelace" } }
    const changes = changesOf(decode([withNames]))
    expect(changes.length).toBeGreaterThan(2)
    for (const change of changes) expect(change.fields).toEqual({ firstName: "Ada", lastName: "Lovelace" })
    const noEmail = identify({}, { email: undefined, firstName: "Alan" })
    expect(decode([noEmail]).memberships[0]!.fields).toBeUndefined()
    expect(decode([identify({}, { firstName: "Ada" })], []).memberships[0]!.fields).toBeUndefined()
  })

  it("an accepted event with fields is a valid MembershipEvent", () => {
    const [event] = decode([identify({}, { firstName: "Ada, \"the\" first\nCountess" })]).memberships
    const { index: _index, ...m } = event!
    expect(Schema.decodeUnknownSync(MembershipEvent)(m).fields).toEqual({ firstName: "Ada, \"the\" first\nCountess" })
  })
})
