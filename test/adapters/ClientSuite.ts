// The Marketo client against the sandbox server on 127.0.0.1 (real fetch, random port): every
// port method and every error class. Registered by MarketoClient.test.ts, and by
// Conformance.test.ts with a recorder, so the conformance check sees this whole run. The cases
// live in ClientListCases.ts, ClientImportCases.ts and ClientFaultCases.ts, run here in that order
// on one context (ClientSuiteContext.ts), and end with the check that no error shows a secret.
import { Cause, Either, Exit } from "effect"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { normalizeEndpoint } from "../../adapters/marketo/Endpoint.js"
import { faultCases } from "./ClientFaultCases.js"
import { importCases } from "./ClientImportCases.js"
import { listCases } from "./ClientListCases.js"
import { ClientSuiteContext, type Recorder, SECRET, WRONG_SECRET } from "./ClientSuiteContext.js"

export type { Recorder } from "./ClientSuiteContext.js"

export const clientSuite = (record: Recorder = () => {}) => {
  const ctx = new ClientSuiteContext(record)

  beforeAll(async () => {
    ctx.server = await ctx.start({ duplicateEmails: ["twin@example.com"], importQueuedMillis: 0, importRunningMillis: 0, importRunningMillisPerRow: 0, failImportsContaining: "fail-import@example.com" })
  })
  afterAll(async () => {
    await ctx.closeAll()
  })
  beforeEach(async () => {
    ctx.signals.length = 0
    ctx.permits = 0
    await ctx.control("faults", { rules: [] })
  })

  describe("Marketo client against the sandbox", () => {
    listCases(ctx)
    importCases(ctx)
    faultCases(ctx)

    it("no error of this run shows the client secret or any issued token, in any string form", () => {
      expect(ctx.producedErrors.length).toBeGreaterThanOrEqual(8)
      expect(ctx.issuedTokens.size).toBeGreaterThanOrEqual(3)
      for (const error of ctx.producedErrors) {
        const forms = [String(error), JSON.stringify(error), (error as Error).message, Cause.pretty(Cause.fail(error)), JSON.stringify(Exit.fail(error))]
        for (const form of forms) {
          for (const secret of [SECRET, WRONG_SECRET, ...ctx.issuedTokens]) expect(form).not.toContain(secret)
        }
      }
    })
  })

  describe("normalizeEndpoint", () => {
    it("accepts the admin page's form, with or without /rest and slashes", () => {
      for (const raw of ["https://123-ABC-456.mktorest.com", "https://123-ABC-456.mktorest.com/", "https://123-abc-456.mktorest.com/rest", " https://123-ABC-456.mktorest.com/rest/ ", "http://127.0.0.1:8788"]) {
        expect(Either.isRight(normalizeEndpoint(raw)), raw).toBe(true)
      }
      expect(normalizeEndpoint("https://123-ABC-456.mktorest.com/rest/")).toEqual(Either.right("https://123-abc-456.mktorest.com"))
    })
    it("explains what is wrong", () => {
      expect(normalizeEndpoint("123-ABC-456.mktorest.com")).toEqual(Either.left("MARKETO_ENDPOINT \"123-ABC-456.mktorest.com\" is not a URL (expected e.g. https://123-ABC-456.mktorest.com/rest)"))
      expect(normalizeEndpoint("ftp://x.example.com")).toEqual(Either.left("MARKETO_ENDPOINT must start with https:// (or http:// for a local sandbox), not ftp://"))
      expect(normalizeEndpoint("https://x.mktorest.com/soap/mktows/3")._tag).toBe("Left")
      expect(normalizeEndpoint("https://user:pw@x.mktorest.com")._tag).toBe("Left")
    })
  })
}
