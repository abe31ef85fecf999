import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import fc from "fast-check"
import { Email } from "../../../core/1-events/Email.js"
import { normalizeEmail } from "../../../core/1-events/EmailNormalizer.js"

const invalid = (raw: string, why: string) => `email ${JSON.stringify(raw)} is not a valid address: ${why}`

describe("normalizeEmail", () => {
  it("trims and lower-cases", () => {
    expect(normalizeEmail("  Ada.Lovelace+news@Example.CO.uk ")).toEqual(Either.right("ada.lovelace+news@example.co.uk"))
    expect(normalizeEmail("\tGRACE@EXAMPLE.COM\n")).toEqual(Either.right("grace@example.com"))
  })

  it.each([
    "o'brien@example.ie",
    "first.last@sub.example.com",
    "x@a-b.example",
    "user+tag@xn--bcher-kva.example",
    "1234@example.com",
    "=cmd@example.com" // a valid address: the CSV writer, not the normaliser, keeps formulas out of files
  ])("accepts %j", (raw) => {
    expect(normalizeEmail(raw)).toEqual(Either.right(raw.toLowerCase()))
  })

  it.each([
    ["", "email is empty"],
    ["   ", "email is empty"],
    ["ada", invalid("ada", "it has no @")],
    ["ada@", invalid("ada@", "nothing after the @")],
    ["@example.com", invalid("@example.com", "nothing before the @")],
    ["ada@@example.com", invalid("ada@@example.com", "it has more than one @")],
    ["ada@localhost", invalid("ada@localhost", "the domain has no dot")],
    ["a b@example.com", invalid("a b@example.com", "it contains a space, a comma or a control character")],
    ["a,b@example.com", invalid("a,b@example.com", "it contains a space, a comma or a control character")],
    ["ada\n@example.com", invalid("ada\n@example.com", "it contains a space, a comma or a control character")],
    ["ada\u0000@example.com", invalid("ada\u0000@example.com", "it contains a space, a comma or a control character")],
    ["\"a\"@example.com", invalid("\"a\"@example.com", "quoted local parts are not accepted")],
    ["a..b@example.com", invalid("a..b@example.com", "the part before the @ has a character that is not allowed, or a misplaced dot")],
    [".ab@example.com", invalid(".ab@example.com", "the part before the @ has a character that is not allowed, or a misplaced dot")],
    ["ab.@example.com", invalid("ab.@example.com", "the part before the @ has a character that is not allowed, or a misplaced dot")],
    ["a(b)@example.com", invalid("a(b)@example.com", "the part before the @ has a character that is not allowed, or a misplaced dot")],
    ["ada@example..com", invalid("ada@example..com", "the domain has an empty label")],
    ["ada@example.com.", invalid("ada@example.com.", "the domain has an empty label")],
    ["ada@exa_mple.com", invalid("ada@exa_mple.com", "the domain label \"exa_mple\" is not letters, digits and inner hyphens")],
    ["ada@-example.com", invalid("ada@-example.com", "the domain label \"-example\" is not letters, digits and inner hyphens")],
    ["ada@[127.0.0.1]", invalid("ada@[127.0.0.1]", "the domain label \"[127\" is not letters, digits and inner hyphens")],
    ["ada@example.123", invalid("ada@example.123", "the top-level domain is numeric")],
    ["zoë@example.com", "email \"zoë@example.com\" contains non-ASCII characters"],
    ["ada@bücher.example", "email \"ada@bücher.example\" contains non-ASCII characters"],
    // The Kelvin sign lower-cases to an ASCII "k": it must be refused, not silently become another address.
    ["\u212Aim@example.com", "email \"\u212Aim@example.com\" contains non-ASCII characters"]
  ])("rejects %j", (raw, reason) => {
    expect(normalizeEmail(raw)).toEqual(Either.left(reason))
  })

  it("rejects addresses over 254 characters, local parts over 64 and labels over 63", () => {
    const long = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`
    expect(long.length).toBe(260)
    expect(normalizeEmail(long)).toEqual(Either.left(`email "${long.slice(0, 77)}..." is longer than 254 characters`))
    const local65 = `${"a".repeat(65)}@example.com`
    expect(normalizeEmail(local65)).toEqual(Either.left(invalid(local65, "the part before the @ is longer than 64 characters")))
    expect(normalizeEmail(`${"a".repeat(64)}@example.com`)).toEqual(Either.right(`${"a".repeat(64)}@example.com`))
    const label64 = `a@${"b".repeat(64)}.com`
    expect(normalizeEmail(label64)).toEqual(Either.left(invalid(label64, "a domain label is longer than 63 characters")))
    const exactly254 = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.com`
    expect(exactly254.length).toBe(254)
    expect(Either.isRight(normalizeEmail(exactly254))).toBe(true)
  })

  it("yields only values the Email schema accepts, and is idempotent", () => {
    fc.assert(
      fc.property(fc.oneof(fc.emailAddress(), fc.string(), fc.fullUnicodeString()), (raw) => {
        const out = normalizeEmail(raw)
        if (Either.isLeft(out)) return out.left.length > 0
        return Schema.is(Email)(out.right) && Either.getOrThrow(normalizeEmail(out.right)) === out.right
      }),
      { numRuns: 1000 }
    )
  })

  it("accepts what fast-check considers an email address, unless it needs quoting or is too long", () => {
    fc.assert(
      fc.property(fc.emailAddress(), (raw) => {
        const out = normalizeEmail(raw)
        return Either.isRight(out) || raw.length > 254 || /is longer|numeric/.test(out.left)
      }),
      { numRuns: 500 }
    )
  })
})
