// Marketo's documented limits, in one place so the planner, the client and the sandbox agree.
export const MarketoLimits = {
  /** Records per call: upsert input, filterValues, list add/remove ids, batchSize. */
  batchSize: 300,
  /** REST request body (HTTP 413 above). */
  maxBodyBytes: 1_000_000,
  /** One bulk import file (HTTP 413 above). Kept under 10 MB with room for the multipart envelope. */
  maxImportFileBytes: 10_000_000,
  /** Request URI (HTTP 414 above). */
  maxUriBytes: 8_192,
  /** Calls per rolling window per instance, and the window. */
  callsPerWindow: 100,
  windowMillis: 20_000,
  /** Calls in flight per instance. */
  maxConcurrency: 10,
  /** Default daily quota (most subscriptions). */
  dailyQuota: 50_000
} as const
