// One entry of the model's call log: when, which endpoint, how it was answered and whether it
// counted. Counters, the dev page and the soak's invariants are all read from these.
export interface CallRecord {
  readonly at: number
  readonly method: string
  readonly path: string
  /** Method and path with ids replaced, e.g. `GET /rest/v1/lists/{id}/leads.json`. */
  readonly endpoint: string
  readonly status: number
  /** Marketo's code when the envelope failed, else "ok" (or the HTTP status). */
  readonly outcome: string
  readonly counted: boolean
  /** The answer came from a fault rule (the soak tells injected 606/615 from real refusals). */
  readonly injected?: boolean
  /** For an answer lost after the call ran (`lost`, `lost 502`): how the call itself went. */
  readonly ran?: string
  /** The ordinal of the access token the call carried (the n-th token issued), never the token itself. */
  readonly token?: number
}

/** `GET /rest/v1/lists/{id}/leads.json`: one key per endpoint for the counters. */
export const endpointOf = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\/\d+(?=[/.])/g, "/{id}")}`
