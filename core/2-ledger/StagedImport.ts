// A bulk import file carried across ticks: each tick that imports adds its rows to the audience's
// staged file as one more part (CSV rows under StateKeys.stagedPart), and marks them with the
// file's local reference so they are not collected again. The file is sent once it is full (close
// to Marketo's 10 MB), or when nothing more waits, or when waiting longer would break the latency
// target: so a million-member load goes in three full files rather than ten of one tick each, and
// no tick holds more than its own rows. The record keeps what the file holds so far.
import { Schema } from "effect"
import { Email } from "../1-events/Email.js"
import { ImportRef, sampleOf, sampleSize } from "./ImportsInFlight.js"

export const StagedFile = Schema.Struct({
  /** The local reference its rows are marked with, from staging until the import ends. */
  ref: ImportRef,
  /** The lead field columns after `email`, the same for every row of the file. */
  columns: Schema.Array(Schema.String),
  /** Parts written so far (numbered from 0). */
  parts: Schema.Number,
  rows: Schema.Number,
  /** The exact UTF-8 size of the CSV as it would be sent now, its header included. */
  bytes: Schema.Number,
  /** Epoch ms the first part was staged. */
  since: Schema.Number,
  /** Rows spread over the file, looked for on the list if the answer to its sending is lost. */
  sample: Schema.Array(Email)
})
export type StagedFile = typeof StagedFile.Type

/**
 * A staged file sent, whose parts may still be in the store (deleted after the send; a stop before
 * leaves them to the next tick). Up to `parts` inclusive: a part written by a stopped tick before
 * it was journaled is the next number.
 */
export const StagedLeft = Schema.Struct({ ref: ImportRef, parts: Schema.Number })
export type StagedLeft = typeof StagedLeft.Type

/** At most `n` of `items`, spread evenly over them. */
const thin = <A>(items: ReadonlyArray<A>, n: number): ReadonlyArray<A> =>
  items.length <= n ? items : Array.from({ length: Math.max(0, n) }, (_, i) => items[Math.floor((i * items.length) / n)]!)

/** The staged file after one more part (parts at or below `parts` already counted change nothing). */
export const withPart = (
  staged: StagedFile | undefined,
  part: { readonly ref: ImportRef; readonly part: number; readonly emails: ReadonlyArray<Email>; readonly bytes: number; readonly columns: ReadonlyArray<string>; readonly at: number }
): StagedFile => {
  if (staged !== undefined && staged.ref === part.ref && part.part < staged.parts) return staged
  if (staged === undefined || staged.ref !== part.ref) {
    return { ref: part.ref, columns: part.columns, parts: part.part + 1, rows: part.emails.length, bytes: part.bytes, since: part.at, sample: sampleOf(part.emails) }
  }
  // Each part's sample weighs by its rows, so the file's sample stays spread over all of it.
  const rows = staged.rows + part.emails.length
  const theirs = thin(part.emails, Math.max(1, Math.round(sampleSize * part.emails.length / rows)))
  const ours = thin(staged.sample, sampleSize - theirs.length)
  return {
    ...staged,
    parts: part.part + 1,
    rows,
    bytes: staged.bytes + part.bytes,
    sample: [...ours, ...theirs]
  }
}
