import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { credentialProblems, marketoSettings, type WorkerEnv } from "../../workers/Settings.js"

const env = (vars: Record<string, string>) => vars as unknown as WorkerEnv

describe("settings", () => {
  it("names every missing or invalid setting, never a value", () => {
    const problems = Either.getLeft(marketoSettings(env({ MARKETO_CLIENT_SECRET: "s3cret-value", MARKETO_CALLS_PER_20S: "500", MARKETO_DAILY_QUOTA: "abc" })))
    expect(problems._tag).toBe("Some")
    const text = problems._tag === "Some" ? problems.value.join("\n") : ""
    expect(text).toContain("MARKETO_ENDPOINT is not set")
    expect(text).toContain("MARKETO_CLIENT_ID is not set")
    expect(text).toContain("MARKETO_CALLS_PER_20S must be at most 100")
    expect(text).toContain("MARKETO_DAILY_QUOTA must be a positive whole number")
    expect(text).not.toContain("s3cret-value")
    expect(credentialProblems(env({}))).toEqual([
      "neither INGEST_TOKEN nor INGEST_SECRET is set: ingest refuses every request",
      "ADMIN_TOKEN is not set: the admin API refuses every request"
    ])
  })

  it("applies the documented defaults", () => {
    const settings = Either.getOrThrow(marketoSettings(env({ MARKETO_ENDPOINT: "https://123-ABC-456.mktorest.com/rest/", MARKETO_CLIENT_ID: "id", MARKETO_CLIENT_SECRET: "secret" })))
    expect({ ...settings, clientSecret: undefined }).toEqual({
      endpoint: "https://123-abc-456.mktorest.com",
      clientId: "id",
      clientSecret: undefined,
      folder: "Engage Audiences",
      callsPer20s: 50,
      maxConcurrency: 5,
      dailyQuota: 50_000,
      dailyReserve: 5_000
    })
    expect(String(settings.clientSecret)).not.toContain("secret")
  })
})
