// The model's identity: tokens from a POSTed form or the query, their remaining lifetime, bad
// credentials, and calls without a Bearer token.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf, parse, tokenUrl } from "./SandboxTestKit.js"

describe("identity", () => {
  it("accepts a POSTed form, says 3599 s for a fresh token and the remaining seconds after", () => {
    const m = new SandboxModel()
    const form = "grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret"
    const first = parse(m.handle({ method: "POST", url: "/identity/oauth/token", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form }, 0))
    expect(first.expires_in).toBe(3599)
    const later = parse(m.handle({ method: "GET", url: tokenUrl(), headers: {}, body: "" }, 600_000))
    expect(later).toMatchObject({ access_token: first.access_token, expires_in: 2999 })
    const bad = m.handle({ method: "POST", url: "/identity/oauth/token", headers: {}, body: form.replace("local-client-secret", "nope") }, 0)
    expect(bad.status).toBe(401)
    expect(JSON.parse(bad.body)).toEqual({ error: "invalid_client", error_description: "Bad client credentials" })
  })

  it("answers 601 without a bearer token, and for the deprecated access_token query parameter", () => {
    const m = new SandboxModel()
    const { token } = caller(m)
    expect(codeOf(parse(m.handle({ method: "GET", url: "/rest/v1/lists.json", headers: {}, body: "" }, 0)))).toBe("601")
    expect(codeOf(parse(m.handle({ method: "GET", url: `/rest/v1/lists.json?access_token=${token()}`, headers: {}, body: "" }, 0)))).toBe("601")
  })
})
