import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { allowsKey } from "../../workers/AudienceKeys.js"
import {
  configurationProblems,
  credentialProblems,
  ingestSettings,
  instanceUrl,
  marketoSettings,
  sharedTokensProblem
} from "../../workers/Settings.js"
import type { WorkerEnv } from "../../workers/WorkerEnv.js"

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

  it("reads MAX_AUDIENCES (500 by default) and AUDIENCE_KEYS, naming what is wrong with them", () => {
    expect(Either.getOrThrow(ingestSettings(env({})))).toEqual({ maxAudiences: 500 })
    expect(ingestSettings(env({ MAX_AUDIENCES: "0" }))).toEqual(Either.left([
      "MAX_AUDIENCES must be a whole number from 1 to 10000 (each audience is a Marketo list, and every tick and page load reads its record)"
    ]))
    const keys = Either.getOrThrow(ingestSettings(env({ MAX_AUDIENCES: "20", AUDIENCE_KEYS: " vip_customers , engage_* " }))).audienceKeys!
    expect(["vip_customers", "engage_", "engage_churn"].map((k) => allowsKey(keys, k))).toEqual([true, true, true])
    expect(["vip", "vip_customers_2", "Engage_churn", "x_engage_"].map((k) => allowsKey(keys, k))).toEqual([false, false, false, false])
    expect(ingestSettings(env({ AUDIENCE_KEYS: "vip,,churn" }))).toEqual(Either.left(["AUDIENCE_KEYS has an empty entry: separate keys with single commas"]))
    for (const bad of ["*", "eng*age", "*vip"]) {
      expect(ingestSettings(env({ AUDIENCE_KEYS: `vip,${bad}` }))).toEqual(
        Either.left(["AUDIENCE_KEYS may hold `*` only at the end of a pattern with a prefix (like `engage_*`)"])
      )
    }
    expect(configurationProblems(env({ ...valid, INGEST_TOKEN: "t", ADMIN_TOKEN: "a", MAX_AUDIENCES: "many" }))).toEqual([
      "MAX_AUDIENCES must be a whole number from 1 to 10000 (each audience is a Marketo list, and every tick and page load reads its record)"
    ])
  })

  it("accepts only an https origin as MARKETO_INSTANCE_URL, never quoting the value", () => {
    expect(instanceUrl(env({}))).toEqual(Either.right(undefined))
    expect(instanceUrl(env({ MARKETO_INSTANCE_URL: " https://app-ab12.marketo.com/ " }))).toEqual(Either.right("https://app-ab12.marketo.com"))
    const problem = "MARKETO_INSTANCE_URL must be an https origin like https://app-ab12.marketo.com (no path, query or user name)"
    for (const bad of [
      "javascript:alert(document.cookie)//https://x",
      "http://app-ab12.marketo.com",
      "https://app-ab12.marketo.com/#ST1A1",
      "https://app-ab12.marketo.com?x=1",
      "https://app-ab12.marketo.com/lists",
      "https://me@app-ab12.marketo.com",
      "data:text/html,<script>x</script>",
      "app-ab12.marketo.com"
    ]) {
      expect(instanceUrl(env({ MARKETO_INSTANCE_URL: bad })), bad).toEqual(Either.left(problem))
    }
    expect(configurationProblems(env({ ...valid, INGEST_TOKEN: "t", ADMIN_TOKEN: "a", MARKETO_INSTANCE_URL: "javascript:alert(1)" }))).toEqual([problem])
  })

  it("names an ingest token equal to the admin token as a problem", () => {
    expect(sharedTokensProblem).toBe(
      "INGEST_TOKEN equals ADMIN_TOKEN: every sender could use the admin API; set different secrets (the admin API refuses the token until then)"
    )
    expect(credentialProblems(env({ INGEST_TOKEN: "same-token", ADMIN_TOKEN: " same-token " }))).toEqual([sharedTokensProblem])
    expect(configurationProblems(env({ ...valid, INGEST_TOKEN: "same-token", ADMIN_TOKEN: "same-token" }))).toEqual([sharedTokensProblem])
    expect(credentialProblems(env({ INGEST_TOKEN: "one", ADMIN_TOKEN: "other" }))).toEqual([])
    // The webhook secret is a credential of the senders too.
    expect(credentialProblems(env({ INGEST_SECRET: "same-token", ADMIN_TOKEN: "same-token" }))).toEqual([sharedTokensProblem.replace("INGEST_TOKEN", "INGEST_SECRET")])
  })
})
