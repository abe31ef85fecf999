// The Marketo client's settings: the endpoint normalised, the secret kept Redacted, and errors that
// name the setting to fix and never the secret.
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Option, Redacted } from "effect"
import { marketoConfig } from "../../adapters/marketo/MarketoConfig.js"
import { SECRET } from "./ScriptedHarness.js"

describe("settings", () => {
  const read = (env: Record<string, string>) =>
    Effect.either(Effect.withConfigProvider(marketoConfig, ConfigProvider.fromMap(new Map(Object.entries(env)))))

  it.effect("reads the endpoint (normalised), the client id, the secret as Redacted, and the folder", () =>
    Effect.gen(function*() {
      const values = Either.getOrThrow(yield* read({
        MARKETO_ENDPOINT: "https://123-ABC-456.mktorest.com/rest/",
        MARKETO_CLIENT_ID: "id",
        MARKETO_CLIENT_SECRET: SECRET
      }))
      expect(values.baseUrl).toBe("https://123-abc-456.mktorest.com")
      expect(values.folderName).toBe("Engage Audiences")
      expect(Redacted.value(values.clientSecret)).toBe(SECRET)
      expect(String(values.clientSecret)).not.toContain(SECRET)
      expect(JSON.stringify(values)).not.toContain(SECRET)
    }))

  it.effect("names the setting that is missing or wrong, never the secret", () =>
    Effect.gen(function*() {
      const badEndpoint = yield* read({ MARKETO_ENDPOINT: "ftp://x.example.com", MARKETO_CLIENT_ID: "id", MARKETO_CLIENT_SECRET: SECRET })
      const noSecret = yield* read({ MARKETO_ENDPOINT: "https://x.mktorest.com", MARKETO_CLIENT_ID: "id" })
      expect(String(Either.getLeft(badEndpoint).pipe(Option.getOrThrow))).toContain("MARKETO_ENDPOINT must start with https://")
      expect(String(Either.getLeft(noSecret).pipe(Option.getOrThrow))).toContain("MARKETO_CLIENT_SECRET")
      for (const r of [badEndpoint, noSecret]) expect(String(Either.getLeft(r).pipe(Option.getOrThrow))).not.toContain(SECRET)
    }))
})
