// The audience keys an instance knows, in its Durable Object's SQLite database: which are live
// (counted against MAX_AUDIENCES) and when each removed one was removed (its tombstone), with the
// number of older events ignored since. Ingest asks here before it stores anything, so the count
// is exact however many requests arrive at once (the object runs one call at a time).
import { StateKeys } from "../core/2-ledger/StateKeys.js"
import type { Admission, AdmissionRequest, Tombstone } from "./AudienceAdmission.js"

export type { Admission, AdmissionRequest, Tombstone } from "./AudienceAdmission.js"

interface Row {
  readonly key: string
  readonly live: number
  readonly removed_at: number | null
  readonly ignored: number
  [column: string]: SqlStorageValue
}

const seededKey = "audience-registry-seeded"

export class AudienceRegistry {
  constructor(private readonly sql: SqlStorage, kv: SyncKvStorage) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS audiences (key TEXT PRIMARY KEY, live INTEGER NOT NULL, removed_at INTEGER, ignored INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID"
    )
    // Audiences that existed before the registry are live: their records are in the pointers.
    if (kv.get(seededKey) === undefined) {
      const records = sql.exec<{ key: string }>("SELECT key FROM pointers WHERE key >= ? AND key < ?", StateKeys.audiencePrefix, "aud0")
      for (const { key } of records) {
        if (StateKeys.isAudienceRecord(key)) this.setLive(decodeURIComponent(key.slice(StateKeys.audiencePrefix.length)))
      }
      kv.put(seededKey, true)
    }
  }

  private row(key: string): Row | undefined {
    return this.sql.exec<Row>("SELECT key, live, removed_at, ignored FROM audiences WHERE key = ?", key).toArray()[0]
  }

  private setLive(key: string) {
    this.sql.exec("INSERT INTO audiences (key, live) VALUES (?, 1) ON CONFLICT(key) DO UPDATE SET live = 1", key)
  }

  private liveCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM audiences WHERE live = 1").one().n
  }

  /** Decide each key's events, in the order given: ignore those older than a removal, admit the rest up to the limit. */
  admit(requests: ReadonlyArray<AdmissionRequest>, maxAudiences: number): Array<Admission> {
    let live = this.liveCount()
    return requests.map(({ key, times }) => {
      const row = this.row(key)
      const removedAt = row?.removed_at ?? null
      const ignored = removedAt === null ? 0 : times.filter((t) => t < removedAt).length
      if (ignored > 0) this.sql.exec("UPDATE audiences SET ignored = ignored + ? WHERE key = ?", ignored, key)
      let admitted = true
      if (ignored < times.length && row?.live !== 1) {
        admitted = live < maxAudiences
        if (admitted) {
          this.setLive(key)
          live++
        }
      }
      return { key, removedAt, ignored, admitted }
    })
  }

  /** An audience the admin made (a display name set before any event): live, whatever the limit. */
  register(key: string): void {
    this.setLive(key)
  }

  /**
   * Leave the tombstone of a removal at `at`: the key stops counting, and its events older than
   * `at` are ignored from now on. With `onlyIfLive`, only a key the registry holds live (one whose
   * events wait in the inbox) is buried. Answers whether it was.
   */
  bury(key: string, at: number, onlyIfLive: boolean): boolean {
    if (onlyIfLive && this.row(key)?.live !== 1) return false
    this.sql.exec(
      "INSERT INTO audiences (key, live, removed_at, ignored) VALUES (?, 0, ?, 0) ON CONFLICT(key) DO UPDATE SET live = 0, removed_at = excluded.removed_at, ignored = 0",
      key,
      at
    )
    return true
  }

  /** Count events the tick's fold ignored (they were waiting in the inbox when the audience was removed). */
  countIgnored(counts: ReadonlyArray<{ readonly key: string; readonly ignored: number }>): void {
    for (const { key, ignored } of counts) this.sql.exec("UPDATE audiences SET ignored = ignored + ? WHERE key = ?", ignored, key)
  }

  /** Every tombstone, by key. */
  tombstones(): Array<Tombstone> {
    return this.sql.exec<Row>("SELECT key, live, removed_at, ignored FROM audiences WHERE removed_at IS NOT NULL ORDER BY key").toArray().map((r) => ({
      key: r.key,
      removedAt: r.removed_at!,
      ignored: r.ignored,
      live: r.live === 1
    }))
  }
}
