// What `npm start` hands the local worker: every setting of the README's configuration table that
// is set in the environment, so `MARKETO_CALLS_PER_20S=20 npm start` runs with 20. Tokens keep
// their local defaults, and against the sandbox so do the Marketo credentials. No Node API here:
// test/workers checks it inside workerd, against the README's table.

/** The README's configuration table, in its order. */
export const settingNames = [
  "MARKETO_ENDPOINT",
  "MARKETO_CLIENT_ID",
  "MARKETO_CLIENT_SECRET",
  "MARKETO_FOLDER",
  "INGEST_TOKEN",
  "INGEST_SECRET",
  "ADMIN_TOKEN",
  "MARKETO_CALLS_PER_20S",
  "MARKETO_MAX_CONCURRENCY",
  "MARKETO_DAILY_QUOTA",
  "MARKETO_DAILY_RESERVE",
  "SYNC_LATENCY_TARGET_MINUTES",
  "AUDIENCE_REMOVAL",
  "MARKETO_INSTANCE_URL",
  "MAX_AUDIENCES",
  "AUDIENCE_KEYS",
  "MARKETO_LEAD_FIELDS",
  "MARKETO_LEAD_FIELDS_UPDATE",
  "MARKETO_PARTITION"
] as const

/** The local credentials the README's Quickstart names. */
export const localDefaults = {
  INGEST_TOKEN: "dev-ingest-token",
  INGEST_SECRET: "dev-ingest-secret",
  ADMIN_TOKEN: "dev-admin-token",
  MARKETO_FOLDER: "Engage Audiences"
} as const

/** The sandbox's own client: whatever the environment says, the sandbox accepts only this one. */
const sandboxClient = { MARKETO_CLIENT_ID: "local-client-id", MARKETO_CLIENT_SECRET: "local-client-secret" } as const

export const workerVars = (environment: Readonly<Record<string, string | undefined>>, sandboxUrl: string | undefined): Record<string, string> => {
  const set = (name: string) => {
    const value = environment[name]
    return value === undefined || value.trim() === "" ? undefined : value
  }
  const vars: Record<string, string> = {}
  for (const name of settingNames) {
    const value = set(name)
    if (value !== undefined) vars[name] = value
  }
  for (const [name, value] of Object.entries(localDefaults)) vars[name] ??= value
  if (sandboxUrl !== undefined) Object.assign(vars, { MARKETO_ENDPOINT: sandboxUrl, ...sandboxClient })
  else for (const name of ["MARKETO_CLIENT_ID", "MARKETO_CLIENT_SECRET"]) vars[name] ??= ""
  return vars
}
