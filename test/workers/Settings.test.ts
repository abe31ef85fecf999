import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { configurationProblems, credentialProblems, marketoSettings, type WorkerEnv } from "../../workers/Settings.js"

const env = (vars: Record<string, string>) => vars as unknown as WorkerEnv
const valid = { MARKETO_ENDPOINT: "https://123-ABC-456.mktorest.com/rest/", MARKETO_CLIENT_ID: "id", MARKETO_CLIENT_SECRET: "secret" }
const problemsOf = (vars: Record<string, string>) => Either.match(marketoSettings(env(vars)), { onLeft: (p) => p, onRight: () => [] })

describe("settings", () => {
  it("names every missing or invalid setting, never a secret", () => {
    const problems = problemsOf({ MARKETO_CLIENT_SECRET: "s3cret-value", MARKETO_CALLS_PER_20S: "500", MARKETO_DAILY_QUOTA: "abc", MARKETO_MAX_CONCURRENCY: "2.5" })
    expect(problems).toEqual([
      "MARKETO_ENDPOINT is not set (Admin → Web Services → REST API endpoint)",
      "MARKETO_CLIENT_ID is not set (the LaunchPoint service's Client Id)",
      "MARKETO_CALLS_PER_20S must be a whole number from 1 to 100 (Marketo allows 100 per instance, shared by every integration)",
      "MARKETO_MAX_CONCURRENCY must be a whole number from 1 to 10 (Marketo allows 10 concurrent calls per instance)",
      "MARKETO_DAILY_QUOTA must be a whole number from 1 to 100000000"
    ])
    expect(problems.join("\n")).not.toContain("s3cret-value")
    expect(credentialProblems(env({}))).toEqual([
      "neither INGEST_TOKEN nor INGEST_SECRET is set: ingest refuses every request",
      "ADMIN_TOKEN is not set: the admin API refuses every request"
    ])
  })

  it("checks the endpoint's shape and the reserve against the quota", () => {
    expect(problemsOf({ ...valid, MARKETO_ENDPOINT: "ftp://x.example.com" })).toEqual([
      "MARKETO_ENDPOINT must start with https:// (or http:// for a local sandbox), not ftp://"
    ])
    expect(problemsOf({ ...valid, MARKETO_DAILY_QUOTA: "4000" })).toEqual(["MARKETO_DAILY_RESERVE (5000) must be below MARKETO_DAILY_QUOTA (4000)"])
    expect(problemsOf({ ...valid, MARKETO_DAILY_QUOTA: "4000", MARKETO_DAILY_RESERVE: "0" })).toEqual([])
    const latency = problemsOf({ ...valid, SYNC_LATENCY_TARGET_MINUTES: "0" })
    expect(latency).toHaveLength(1)
    expect(latency[0]).toMatch(/^SYNC_LATENCY_TARGET_MINUTES .*minutes a change may wait/)
  })

  it("applies the documented defaults; blank values count as not set", () => {
    const settings = Either.getOrThrow(marketoSettings(env({ ...valid, MARKETO_FOLDER: "  ", MARKETO_CALLS_PER_20S: "" })))
    expect({ ...settings, clientSecret: undefined }).toEqual({
      endpoint: "https://123-abc-456.mktorest.com",
      clientId: "id",
      clientSecret: undefined,
      folder: "Engage Audiences",
      callsPer20s: 50,
      maxConcurrency: 5,
      dailyQuota: 50_000,
      dailyReserve: 5_000,
      latencyTargetMinutes: 5,
      leadFields: { mapping: [{ field: "firstName", traits: ["firstName"] }, { field: "lastName", traits: ["lastName"] }], update: "on-add" }
    })
    expect(String(settings.clientSecret)).not.toContain("secret")
    expect(configurationProblems(env({ ...valid, INGEST_TOKEN: "t", ADMIN_TOKEN: "a" }))).toEqual([])
  })
})
