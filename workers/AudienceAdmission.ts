// The audience registry's records and its rule, runtime-neutral: which keys are live (counted
// against MAX_AUDIENCES), when a removed one was removed (its tombstone) and how many older events
// were ignored since. The Durable Object keeps them in SQLite (workers/AudienceRegistry.ts), Deno
// in Deno KV (adapters/deno/DenoKvAudienceRegistry.ts); both decide with `admitOne`.

/** One audience key's events in one ingest request: the times of its events. */
export interface AdmissionRequest {
  readonly key: string
  readonly times: ReadonlyArray<number>
}

export interface Admission {
  readonly key: string
  /** When the audience was last removed, if ever: its events older than that are ignored. */
  readonly removedAt: number | null
  /** Events older than the removal, ignored (and counted). */
  readonly ignored: number
  /** The newer events may be stored; false when the key is new and MAX_AUDIENCES are live. */
  readonly admitted: boolean
}

export interface Tombstone {
  readonly key: string
  readonly removedAt: number
  /** Older events ignored since the removal. */
  readonly ignored: number
  /** Newer events started the audience again. */
  readonly live: boolean
}

/** What the registry knows of a key: whether it is live and when it was last removed. */
export interface RegistryRow {
  readonly live: boolean
  readonly removedAt: number | null
}

/**
 * One key's events against its row: those older than a removal are ignored, the rest admitted if
 * the key is live or a slot is free. `becomesLive` says the key takes a slot now.
 */
export const admitOne = (row: RegistryRow | undefined, request: AdmissionRequest, live: number, maxAudiences: number) => {
  const removedAt = row?.removedAt ?? null
  const ignored = removedAt === null ? 0 : request.times.filter((t) => t < removedAt).length
  const wantsSlot = ignored < request.times.length && row?.live !== true
  const admitted = !wantsSlot || live < maxAudiences
  const admission: Admission = { key: request.key, removedAt, ignored, admitted }
  return { admission, becomesLive: wantsSlot && admitted }
}
