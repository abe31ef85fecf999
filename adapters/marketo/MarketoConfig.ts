// The settings the Marketo client needs. The secret stays Redacted: it never prints.
import { Context, Layer, type Redacted } from "effect"

export interface MarketoConfigValues {
  /** The normalised origin, e.g. https://123-ABC-456.mktorest.com (see Endpoint.ts). */
  readonly baseUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
  /** First retry delay (doubling, with jitter, 3 retries at most). Default 1 s. */
  readonly retryBaseMillis?: number
}

export class MarketoConfig extends Context.Tag("marketo-lists/MarketoConfig")<MarketoConfig, MarketoConfigValues>() {
  static readonly layer = (values: MarketoConfigValues) => Layer.succeed(MarketoConfig, values)
}
