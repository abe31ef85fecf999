// Response-level Marketo failures, by what a client should do about them (the code table in
// docs/marketo.md). They cross boundaries (stored in audience status, shown by the admin API),
// so they are schema-tagged. Per-record statuses are NOT errors: they stay data in outcomes.
import { Schema } from "effect"

const fields = {
  /** Marketo's code as a string ("606"), or "HTTP 413", "network" for failures outside the envelope. */
  code: Schema.String,
  message: Schema.String
}

/** Bad credentials, or a token Marketo keeps refusing (601/602 after one refresh), or 603. */
export class MarketoAuthError extends Schema.TaggedError<MarketoAuthError>()("MarketoAuthError", fields) {}

/** 606 (rate) or 615 (concurrency): someone used the instance's budget. Retry after the window rolls. */
export class MarketoRateLimited extends Schema.TaggedError<MarketoRateLimited>()("MarketoRateLimited", {
  ...fields,
  retryAfterMillis: Schema.Number
}) {}

/** 607: the daily quota is spent. Nothing runs until it resets (midnight US Central). */
export class MarketoQuotaExhausted extends Schema.TaggedError<MarketoQuotaExhausted>()("MarketoQuotaExhausted", fields) {}

/** 604, 608, 611, 614, 713, 719, 1016, 1019, 1029, HTTP 5xx, network: retry later with backoff. */
export class MarketoTransient extends Schema.TaggedError<MarketoTransient>()("MarketoTransient", fields) {}

/** Marketo refused the request on its merits (605, 609-613, 616, 701-711, 1013...): do not retry. */
export class MarketoRejected extends Schema.TaggedError<MarketoRejected>()("MarketoRejected", fields) {}

/** A code the table does not know: retried a bounded number of times, then surfaced as is. */
export class MarketoUnknownError extends Schema.TaggedError<MarketoUnknownError>()("MarketoUnknownError", fields) {}

/**
 * The request may have reached Marketo and run, but its answer was lost: the connection dropped,
 * the edge answered 5xx, the answer was not Marketo's JSON, or it never came (code "network",
 * "HTTP 502", "timeout"…). Only a call that is not safe to repeat (a bulk import, a list's
 * creation) surfaces it: the caller must find out what happened before sending it again. Calls
 * that are safe to repeat are retried and surface MarketoTransient instead.
 */
export class MarketoAnswerLost extends Schema.TaggedError<MarketoAnswerLost>()("MarketoAnswerLost", fields) {}

export const MarketoError = Schema.Union(
  MarketoAuthError,
  MarketoRateLimited,
  MarketoQuotaExhausted,
  MarketoTransient,
  MarketoRejected,
  MarketoUnknownError,
  MarketoAnswerLost
)
export type MarketoError = typeof MarketoError.Type
