import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { normalizeEmail } from "../../core/EmailNormalizer.js"

describe("normalizeEmail", () => {
  it("trims and lower-cases", () => {
    expect(normalizeEmail("  Ada.Lovelace+news@Example.CO.uk ")).toEqual(Either.right("ada.lovelace+news@example.co.uk"))
  })
  it.each([
    ["", "email is empty"],
    ["   ", "email is empty"],
    ["ada", "email \"ada\" is not a valid address"],
    ["ada@", "email \"ada@\" is not a valid address"],
    ["@example.com", "email \"@example.com\" is not a valid address"],
    ["ada@@example.com", "email \"ada@@example.com\" is not a valid address"],
    ["ada@localhost", "email \"ada@localhost\" is not a valid address"],
    ["a b@example.com", "email \"a b@example.com\" is not a valid address"],
    ["a,b@example.com", "email \"a,b@example.com\" is not a valid address"],
    ["\"a\"@example.com", "email \"\\\"a\\\"@example.com\" is not a valid address"],
    ["a..b@example.com", "email \"a..b@example.com\" is not a valid address"],
    ["ada@exa_mple.com", "email \"ada@exa_mple.com\" is not a valid address"],
    ["ada@-example.com", "email \"ada@-example.com\" is not a valid address"],
    ["ada@example.123", "email \"ada@example.123\" is not a valid address"],
    ["ada\n@example.com", "email \"ada\\n@example.com\" is not a valid address"],
    ["zoë@example.com", "email \"zoë@example.com\" contains non-ASCII characters"]
  ])("rejects %j", (raw, reason) => {
    expect(normalizeEmail(raw)).toEqual(Either.left(reason))
  })
  it("rejects addresses over 254 characters and local parts over 64", () => {
    const long = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.com`
    expect(long.length).toBeGreaterThan(254)
    expect(Either.getLeft(normalizeEmail(long))._tag).toBe("Some")
    expect(normalizeEmail(`${"a".repeat(65)}@example.com`)._tag).toBe("Left")
    expect(normalizeEmail(`${"a".repeat(64)}@example.com`)._tag).toBe("Right")
  })
  it("accepts leading formula characters as valid addresses (the planner keeps them out of CSV)", () => {
    expect(normalizeEmail("=cmd@example.com")).toEqual(Either.right("=cmd@example.com"))
  })
})
