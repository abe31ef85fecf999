// The settings the Marketo client needs. The secret stays Redacted: it never prints.
import { Config, ConfigError, Context, Either, Layer, type Redacted } from "effect"
import { normalizeEndpoint } from "./Endpoint.js"

export interface MarketoConfigValues {
  /** The normalised origin, e.g. https://123-ABC-456.mktorest.com (see Endpoint.ts). */
  readonly baseUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** The folder (Lead Database → Group Lists) that holds the synced lists. */
  readonly folderName?: string
  /** First retry delay (doubling, with jitter, 3 retries at most). Default 1 s. */
  readonly retryBaseMillis?: number
  /** Longest wait for one answer before it counts as a transient failure. Default 120 s. */
  readonly requestTimeoutMillis?: number
  /** The lead partition new leads go to (`partitionName` on upserts and imports), for instances with partitions. */
  readonly partitionName?: string
}

export const defaultFolderName = "Engage Audiences"

/** MARKETO_ENDPOINT, normalised; an endpoint that cannot be used fails with a message naming it. */
export const endpointConfig: Config.Config<string> = Config.string("MARKETO_ENDPOINT").pipe(
  Config.mapOrFail((raw) => Either.mapLeft(normalizeEndpoint(raw), (problem) => ConfigError.InvalidData([], problem)))
)

/**
 * The settings as environment-style names: MARKETO_ENDPOINT, MARKETO_CLIENT_ID,
 * MARKETO_CLIENT_SECRET (read as Redacted) and MARKETO_FOLDER (default "Engage Audiences").
 */
export const marketoConfig: Config.Config<MarketoConfigValues> = Config.all({
  baseUrl: endpointConfig,
  clientId: Config.string("MARKETO_CLIENT_ID"),
  clientSecret: Config.redacted("MARKETO_CLIENT_SECRET"),
  folderName: Config.withDefault(Config.string("MARKETO_FOLDER"), defaultFolderName)
})

export class MarketoConfig extends Context.Tag("marketo-lists/MarketoConfig")<MarketoConfig, MarketoConfigValues>() {
  static readonly layer = (values: MarketoConfigValues) => Layer.succeed(MarketoConfig, values)
  /** From the current ConfigProvider (environment variables on Node and Deno). */
  static readonly layerConfig: Layer.Layer<MarketoConfig, ConfigError.ConfigError> = Layer.effect(MarketoConfig, marketoConfig)
}
