// Marketo's envelope: `requestId`, `success`, `errors` with string codes, `warnings` and `result`,
// as each API shapes it (the Asset API carries `warnings: []` on every answer, failures included,
// and a warning instead of `result` when a search finds nothing), and the answers of injected faults.
import type { FaultKind } from "../SandboxFaults.js"
import type { SandboxResponse } from "./SandboxRequest.js"
import type { SandboxState } from "./SandboxState.js"

export const json = (status: number, body: unknown): SandboxResponse => ({
  status,
  headers: { "content-type": "application/json;charset=UTF-8" },
  body: JSON.stringify(body)
})

/** Marketo's timestamps: ISO 8601 to the second. */
export const iso = (millis: number) => new Date(millis).toISOString().replace(".000Z", "Z")

/** The answers of one call; `asset` says whether it went to the Asset API. */
export class Answers {
  constructor(private readonly s: SandboxState, private readonly asset: boolean) {}

  requestId() {
    return `${(++this.s.requestCounter).toString(16)}#sandbox`
  }

  // Lead Database answers carry empty errors and warnings as Adobe's OpenAPI files require them.
  ok(result: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) {
    return json(200, { requestId: this.requestId(), result, success: true, errors: [], warnings: [], ...extra })
  }

  okAsset(result: ReadonlyArray<unknown>) {
    return result.length === 0
      ? json(200, { success: true, errors: [], requestId: this.requestId(), warnings: ["No assets found for the given search criteria."] })
      : json(200, { success: true, errors: [], requestId: this.requestId(), warnings: [], result })
  }

  fail(code: string, message: string, asset = this.asset) {
    return json(200, { requestId: this.requestId(), success: false, errors: [{ code, message }], ...(asset ? { warnings: [] } : {}) })
  }

  /** What a fault rule answers in place of the call. */
  fault(kind: Exclude<FaultKind, "revoke" | "latency" | "lost">): SandboxResponse {
    if (kind === "drop") return { status: 0, headers: {}, body: "", drop: true }
    if (kind === "502") return { status: 502, headers: { "content-type": "text/html" }, body: "<html><body>502 Bad Gateway</body></html>" }
    const messages: Record<string, string> = {
      "604": "Request time-out",
      "606": "Max rate limit '100' exceeded with in '20' secs",
      "608": "API Temporarily Unavailable",
      "611": "System error",
      "615": "Concurrent access limit reached"
    }
    return this.fail(kind, messages[kind] ?? "error")
  }
}
