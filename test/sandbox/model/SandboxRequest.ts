// What goes in and out of the model: a request as the shells hand it over, and the answer they
// send back (or the connection they drop). Plain data, so a call can be recorded and replayed.
export interface SandboxRequest {
  readonly method: string
  /** Path and query, e.g. `/rest/v1/leads.json?filterType=email`. */
  readonly url: string
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/** What `handle` accepts: the body may also be text. */
export type SandboxInput = Omit<SandboxRequest, "body"> & { readonly body: string | Uint8Array }

export interface SandboxResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** The shell should drop the connection instead of answering. */
  readonly drop?: boolean
}

/** The path of a request's URL (which is a path and query). */
export const pathOf = (url: string) => new URL(url, "http://sandbox.local").pathname
