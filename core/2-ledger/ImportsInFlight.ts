// The bulk imports an audience has in flight, as its record keeps them: each with when it was sent
// and how many rows it carries (what the instance's import latency is learned from, and when its
// poll is due), and the imports whose answer was lost. Those have no batch id: a local reference
// (a negative number) stands for them in the ledger until the sync has found out what became of
// them, from a sample of their rows.
import { Schema } from "effect"
import { Email } from "../1-events/Email.js"
import { ImportBatchId } from "../1-events/Ids.js"

/** An import whose answer was lost (or whose tick stopped before it): a negative local reference. */
export const ImportRef = Schema.Number.pipe(Schema.int(), Schema.negative(), Schema.brand("ImportRef"))
export type ImportRef = typeof ImportRef.Type

/** What marks an email as being imported: Marketo's batch id, or the local reference of an import not confirmed. */
export const ImportId = Schema.Union(ImportBatchId, ImportRef)
export type ImportId = typeof ImportId.Type

export const isImportRef = (id: number): id is ImportRef => id < 0

export const ImportInFlight = Schema.Struct({
  id: ImportId,
  /** Epoch ms the import was sent. */
  sentAt: Schema.Number,
  rows: Schema.Number,
  /** For an import not confirmed: the rows checked on the list to find out whether it ran. */
  sample: Schema.optional(Schema.Array(Email)),
  /** For an import not confirmed: when the last check found none of the sample on the list. */
  checkedAt: Schema.optional(Schema.Number),
  /**
   * A staged file sent (core/2-ledger/StagedImport.ts): its rows stay marked with `id`, its local
   * reference, and Marketo's batch id, once known, is what its poll asks about.
   */
  batchId: Schema.optional(ImportBatchId)
})
export type ImportInFlight = typeof ImportInFlight.Type

/** Rows of an unconfirmed import checked on the list: one lookup and one membership check. */
export const sampleSize = 300

/** Up to `sampleSize` rows spread evenly over the file (its first and last included). */
export const sampleOf = (emails: ReadonlyArray<Email>): ReadonlyArray<Email> => {
  if (emails.length <= sampleSize) return [...emails]
  const step = (emails.length - 1) / (sampleSize - 1)
  return Array.from({ length: sampleSize }, (_, i) => emails[Math.round(i * step)]!)
}
