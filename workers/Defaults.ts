// The settings' documented defaults (wrangler.toml sets the same values as vars), kept apart from
// the reading of env (workers/Settings.ts) so that tools outside the Workers runtime can use them.
export const defaults = {
  folder: "Engage Audiences",
  callsPer20s: 50,
  maxConcurrency: 5,
  dailyQuota: 50_000,
  /** 10% of the default quota, left for the instance's other integrations. */
  dailyReserve: 5_000,
  latencyTargetMinutes: 5,
  /** Audiences ingest accepts events for; each is a Marketo list and a record every tick reads. */
  maxAudiences: 500,
  /** Segment's spec trait names into Marketo's first and last name. */
  leadFields: "firstName=firstName,lastName=lastName",
  leadFieldsUpdate: "on-add"
} as const
