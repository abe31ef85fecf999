// Whether a lead lookup by email fits in a GET URL (8 KB) or must go as POST with `_method=GET`.
// Shared by the planner (to show and cost the step) and the Marketo client (to send it).
import type { Email } from "../1-events/Email.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"

/** Room left for the scheme and host (`https://123-ABC-456.mktorest.com` is 34 bytes). */
export const HOST_ALLOWANCE_BYTES = 64

export const lookupPath = "/rest/v1/leads.json"

export const lookupQuery = (emails: ReadonlyArray<Email>): string =>
  `filterType=email&filterValues=${encodeURIComponent(emails.join(","))}&fields=id,email&batchSize=${MarketoLimits.batchSize}`

export const lookupMethodFor = (emails: ReadonlyArray<Email>): "GET" | "POST" =>
  HOST_ALLOWANCE_BYTES + lookupPath.length + 1 + lookupQuery(emails).length > MarketoLimits.maxUriBytes ? "POST" : "GET"
