// The local Marketo's knobs. Defaults follow Marketo's documented limits and the local setup
// (`npm start`): client `local-client-id` / `local-client-secret`, folder "Engage Audiences".
export interface SandboxFolder {
  readonly id: number
  readonly name: string
  /** "Folder" or "Program". */
  readonly type: string
  readonly path: string
}

/** A static list that exists before the first call, with its members' emails. */
export interface SandboxList {
  readonly name: string
  /** Defaults to the first folder. */
  readonly folderId?: number
  readonly members?: ReadonlyArray<string>
}

export interface SandboxConfig {
  readonly clientId: string
  readonly clientSecret: string
  readonly folders: ReadonlyArray<SandboxFolder>
  readonly tokenLifetimeSeconds: number
  readonly callsPerWindow: number
  readonly windowMillis: number
  readonly maxConcurrency: number
  readonly dailyQuota: number
  readonly batchSize: number
  /** A lookup matching more leads than this answers 1003. */
  readonly maxFilterMatches: number
  /** Whether list names compare case-sensitively (709 and by-name lookups alike). */
  readonly caseSensitiveListNames: boolean
  readonly maxBodyBytes: number
  readonly maxImportBytes: number
  readonly maxUriBytes: number
  /** The Asset API accepts longer URIs (65,536 bytes). */
  readonly maxAssetUriBytes: number
  /**
   * The least time an import waits Queued (the queue is shared with every integration of the
   * instance), then how long it runs: `importRunningMillis` plus `importRunningMillisPerRow` per
   * row. It waits longer while the imports ahead of it hold both running slots.
   */
  readonly importQueuedMillis: number
  readonly importRunningMillis: number
  readonly importRunningMillisPerRow: number
  /** Imports running at once; the rest wait Queued, first in first out. */
  readonly importMaxRunning: number
  /** Imports waiting; one more is refused with 1016. */
  readonly importMaxQueued: number
  /** Emails (lower-case) for which Marketo holds two leads: upserts skip them with 1007. */
  readonly duplicateEmails: ReadonlyArray<string>
  /** Imports whose CSV contains this email end Failed (to exercise failed imports). */
  readonly failImportsContaining?: string
  /**
   * Rows an import that completes puts into failures.csv instead of importing: those of these
   * emails (lower-case), and each other row with `importRowFailureRate` (drawn from the seed).
   */
  readonly failImportRowsOf: ReadonlyArray<string>
  readonly importRowFailureRate: number
  /** Leads (emails) and lists that exist before the first call. */
  readonly leads: ReadonlyArray<string>
  readonly lists: ReadonlyArray<SandboxList>
  /** How long the shells hold every answer (identity included), in ms; the call is decided on arrival. */
  readonly latencyMillis: number
  /** Lead fields beyond the standard ones (model/LeadFields.ts), as describe2 lists them. */
  readonly customFields: ReadonlyArray<{ readonly name: string; readonly displayName: string; readonly dataType: string; readonly length?: number; readonly updateable: boolean }>
  /** Lead partitions the API user may write; when any, every create must name one (1009, 1008). */
  readonly partitions: ReadonlyArray<string>
  /** An empty cell in an import file keeps the field's value instead of blanking it (not settled for Marketo). */
  readonly importBlankCellsKeep: boolean
  /**
   * Whether calls refused for rate (606) or concurrency (615) count against the day's quota, as
   * calls that reached Marketo (not against the window: a storm would then never end). Marketo does
   * not say; counting them is the unkind reading.
   */
  readonly countRefusals: boolean
}

/**
 * How long imports take. `realistic` (the default, and what `npm start`, `npm run sandbox`, the
 * soak and the benchmarks use) follows what is known of Marketo's bulk import: a FIFO queue per
 * instance shared with every integration, 2 running at once, and Adobe's own advice to use it
 * when a latency of tens of minutes is acceptable: at least a minute queued, then 3 minutes plus
 * 2 ms per row running (docs/sandbox.md gives the figures and the facts behind them). `fast` (2 s
 * queued, 5 s running) is for tests that need imports out of the way.
 */
export type ImportProfile = "realistic" | "fast"

export const importProfiles: ReadonlyArray<ImportProfile> = ["realistic", "fast"]

export const importTimings = (profile: ImportProfile): Pick<SandboxConfig, "importQueuedMillis" | "importRunningMillis" | "importRunningMillisPerRow"> =>
  profile === "fast"
    ? { importQueuedMillis: 2_000, importRunningMillis: 5_000, importRunningMillisPerRow: 0 }
    : { importQueuedMillis: 60_000, importRunningMillis: 180_000, importRunningMillisPerRow: 2 }

/** `SANDBOX_IMPORTS` or a script's `--imports`: "realistic" when unset; anything else is refused. */
export const importProfileOf = (value: string | undefined): ImportProfile => {
  if (value === undefined || value === "") return "realistic"
  if (!importProfiles.includes(value as ImportProfile)) throw new Error(`imports must be one of ${importProfiles.join(", ")}, not "${value}"`)
  return value as ImportProfile
}

export const defaultSandboxConfig: SandboxConfig = {
  clientId: "local-client-id",
  clientSecret: "local-client-secret",
  folders: [{ id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }],
  tokenLifetimeSeconds: 3600,
  callsPerWindow: 100,
  windowMillis: 20_000,
  maxConcurrency: 10,
  dailyQuota: 50_000,
  batchSize: 300,
  maxFilterMatches: 1_000,
  caseSensitiveListNames: false,
  maxBodyBytes: 1_048_576,
  maxImportBytes: 10_485_760,
  maxUriBytes: 8_192,
  maxAssetUriBytes: 65_536,
  ...importTimings("realistic"),
  importMaxRunning: 2,
  importMaxQueued: 10,
  duplicateEmails: [],
  failImportRowsOf: [],
  importRowFailureRate: 0,
  leads: [],
  lists: [],
  latencyMillis: 0,
  customFields: [],
  partitions: [],
  importBlankCellsKeep: false,
  countRefusals: true
}
