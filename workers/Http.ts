// Small helpers for JSON answers. Error bodies name what was wrong, never a secret. Each answer can
// carry a few facts for the request's log line (the error, the counts accepted and rejected).
export type LogFacts = Readonly<Record<string, string | number | boolean>>

// Keyed by the Response itself and held weakly: no I/O and nothing that outlives the request.
const facts = new WeakMap<Response, LogFacts>()

export const factsOf = (response: Response): LogFacts => facts.get(response) ?? {}

export const withFacts = (response: Response, more: LogFacts): Response => {
  facts.set(response, { ...factsOf(response), ...more })
  return response
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body, null, 2), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } })

export const problem = (status: number, error: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  withFacts(json(status, { error, ...extra }, headers), { error })
