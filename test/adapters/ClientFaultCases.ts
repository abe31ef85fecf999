// Client suite cases on tokens, faults and limits: a token expiring or revoked mid-run, 606/615/604
// storms ridden out or exhausting the retries, 607, an unknown code, bad credentials, more than
// 300 ids, and 40 concurrent calls under the memory rate limiter.
import { Cause, Effect, Either, Exit } from "effect"
import { expect, it } from "vitest"
import type { Email } from "../../core/1-events/Email.js"
import type { LeadId, ListId } from "../../core/1-events/Ids.js"
import { MarketoApi } from "../../core/ports/MarketoApi.js"
import { layerRateLimiterMemory } from "../../core/ports/RateLimiterMemory.js"
import { type ClientSuiteContext, WRONG_SECRET } from "./ClientSuiteContext.js"

export const faultCases = (ctx: ClientSuiteContext) => {
  const { run, left, emails, control, start, clientLayer, signals, producedErrors } = ctx

  it("refreshes the token once when it expires mid-run (sandbox clock) or is revoked, never one per call", async () => {
    const identityCalls = () => ctx.server.sandbox.log.filter((c) => c.path === "/identity/oauth/token").length
    const expired = () => ctx.server.sandbox.log.filter((c) => c.outcome === "602").length
    const [calls0, expired0] = [identityCalls(), expired()]
    const r = await run(Effect.gen(function*() {
      const m = yield* MarketoApi
      yield* m.findFolders("Engage Audiences")
      yield* m.findFolders("Engage Audiences")
      yield* Effect.promise(() => control("clock", { advanceMillis: 3_600_000 }))
      yield* m.findFolders("Engage Audiences")
      yield* m.findFolders("Engage Audiences")
      yield* Effect.promise(() => control("revoke-tokens", {}))
      yield* m.findFolders("Engage Audiences")
      yield* m.findFolders("Engage Audiences")
    }))
    expect(Either.isRight(r)).toBe(true)
    // One token at the start, one after expiry (602), one after revocation (601).
    expect(identityCalls() - calls0).toBe(3)
    expect(expired() - expired0).toBe(1)
  })

  it("rides out 606 and 615 storms and a 604, signalling the limiter on 606/615", async () => {
    for (const kind of ["606", "615", "604"] as const) {
      await control("faults", { rules: [{ kind, count: 3, pathPrefix: "/rest/asset" }] })
      const r = await run(Effect.flatMap(MarketoApi, (m) => m.findFolders("Engage Audiences")))
      expect(Either.isRight(r), kind).toBe(true)
    }
    expect(signals).toEqual(["606", "606", "606", "615", "615", "615"])
    expect(ctx.permits).toBe(12)
  })

  it("retries 608, 611, HTTP 502 and dropped connections", async () => {
    for (const kind of ["608", "611", "502", "drop"] as const) {
      await control("faults", { rules: [{ kind, count: 2, pathPrefix: "/rest/v1" }] })
      const r = await run(Effect.flatMap(MarketoApi, (m) => m.lookupLeads(["a@example.com"] as Array<Email>)))
      expect(Either.getOrThrow(r)[0]?.leadIds, kind).toHaveLength(1)
    }
  })

  it("gives up after bounded retries of a storm, with a tagged error: 606 → MarketoRateLimited, 604 → MarketoTransient", async () => {
    await control("faults", { rules: [{ kind: "606", rate: 1 }] })
    const rate = await run(Effect.flatMap(MarketoApi, (m) => m.findFolders("Engage Audiences")))
    expect(left(rate)).toMatchObject({ _tag: "MarketoRateLimited", code: "606" })
    expect(ctx.permits).toBe(4)
    await control("faults", { rules: [{ kind: "604", rate: 1 }] })
    const slow = await run(Effect.flatMap(MarketoApi, (m) => m.findFolders("Engage Audiences")))
    expect(left(slow)).toMatchObject({ _tag: "MarketoTransient", code: "604" })
    expect(ctx.permits).toBe(8)
  })

  it("stops at once on 607, and signals it", async () => {
    const quota = await start({ dailyQuota: 1 })
    const r = await run(
      Effect.flatMap(MarketoApi, (m) => Effect.zipRight(m.findFolders("Engage Audiences"), m.findFolders("Engage Audiences"))),
      clientLayer({ url: quota.url })
    )
    expect(left(r)).toMatchObject({ _tag: "MarketoQuotaExhausted", code: "607" })
    expect(signals).toEqual(["607"])
    expect(ctx.permits).toBe(2)
  })

  it("surfaces a code outside the table as MarketoUnknownError after bounded retries", async () => {
    // A sandbox that takes 2 records per call answers 1003, which the code table does not name.
    const small = await start({ batchSize: 2 })
    const r = await run(Effect.flatMap(MarketoApi, (m) => m.upsertLeads(emails(3, "small"))), clientLayer({ url: small.url }))
    expect(left(r)).toMatchObject({ _tag: "MarketoUnknownError", code: "1003" })
    expect(ctx.permits).toBe(4)
  })

  it("names the settings to fix on bad credentials, without asking again per call", async () => {
    const before = ctx.server.sandbox.log.filter((c) => c.path === "/identity/oauth/token").length
    const r = await Effect.runPromiseExit(Effect.flatMap(MarketoApi, (m) => m.findFolders("x")).pipe(
      Effect.tapError((e) => Effect.sync(() => void producedErrors.push(e))),
      Effect.provide(clientLayer({ clientSecret: WRONG_SECRET }))
    ))
    expect(Exit.isFailure(r)).toBe(true)
    const text = Cause.pretty((r as Exit.Failure<unknown, unknown>).cause)
    expect(text).toMatch(/check MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET/)
    expect(ctx.server.sandbox.log.filter((c) => c.path === "/identity/oauth/token").length - before).toBe(1)
    expect(ctx.permits).toBe(0)
  })

  it("refuses more than 300 ids before calling", async () => {
    const r = await run(Effect.flatMap(MarketoApi, (m) => m.addToList(1 as ListId, Array.from({ length: 301 }, (_, i) => (i + 1) as LeadId))))
    expect(left(r)).toMatchObject({ _tag: "MarketoRejected", code: "batch" })
    expect(ctx.permits).toBe(0)
  })

  it("under the in-memory rate limiter, 40 concurrent calls meet no 606 or 615", async () => {
    const busy = await start({ latencyMillis: 20 })
    const r = await run(
      Effect.flatMap(MarketoApi, (m) => Effect.all(Array.from({ length: 40 }, () => m.findFolders("Engage Audiences")), { concurrency: "unbounded" })),
      clientLayer({ url: busy.url, limiter: layerRateLimiterMemory({ callsPerWindow: 50, maxConcurrency: 5 }) })
    )
    expect(Either.getOrThrow(r)).toHaveLength(40)
    const seen = busy.sandbox.counters().byOutcome
    expect(busy.sandbox.log.filter((c) => c.path !== "/identity/oauth/token" && c.outcome === "ok")).toHaveLength(40)
    expect(seen["606"] ?? 0).toBe(0)
    expect(seen["615"] ?? 0).toBe(0)
    expect(busy.sandbox.log.filter((c) => c.path === "/identity/oauth/token")).toHaveLength(1)
  })
}
