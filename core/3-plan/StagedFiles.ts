// The rows a plan imports, as parts of the audience's staged file (core/2-ledger/StagedImport.ts)
// rather than files of their own: they fill the file staged so far, which is sent (one import and
// its poll) once a row no longer fits, or once nothing more waits, or when waiting longer would
// break the latency target; the rows past it start the next file. One import per list at a time
// (1019): at most one file is sent per tick, and none while another import stays in flight; rows
// that fit nowhere then wait for a later tick.
import type { Email } from "../1-events/Email.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { type FieldsOf, headerBytes, importGroups, rowBytes } from "./ImportFiles.js"
import { SendStaged, StageRows } from "./Plan.js"
import type { AudienceKey } from "../1-events/Ids.js"

export interface Staging {
  /** The file staged so far: its columns and size (header included); none when no file is staged. */
  readonly staged?: { readonly columns: ReadonlyArray<string>; readonly bytes: number }
  /** An import into the list stays in flight whatever this plan's polls find: nothing can be sent. */
  readonly blocked: boolean
  /** Adds wait beyond this delta (in the ledger, or in the inbox): the file may be filled further on later ticks. */
  readonly more: boolean
  /** Waiting longer would break the latency target: the file goes now, full or not. */
  readonly sendNow: boolean
}

/** A staged file with less room than this is full: no tick's rows would be worth waiting for. */
export const fullMarginBytes = 64 * 1024

export const isFull = (bytes: number) => MarketoLimits.maxImportFileBytes - bytes < fullMarginBytes

const trusted = { disableValidation: true } as const
/** Whether two files carry the same lead field columns, in the same order. */
export const sameColumns = (a: ReadonlyArray<string>, b: ReadonlyArray<string>) => a.length === b.length && a.every((c, i) => c === b[i])

/** The steps that stage `emails` (every one importable) and send the staged file when it should go. */
export const stagedSteps = (
  audience: AudienceKey,
  emails: ReadonlyArray<Email>,
  fieldsOf: FieldsOf,
  staging: Staging
): Array<StageRows | SendStaged> => {
  const steps: Array<StageRows | SendStaged> = []
  let file = staging.staged === undefined ? undefined : { columns: staging.staged.columns, bytes: staging.staged.bytes, full: isFull(staging.staged.bytes) }
  let canSend = !staging.blocked
  const send = (why: SendStaged["why"]) => {
    steps.push(new SendStaged({ audience, why }, trusted))
    canSend = false
    file = undefined
  }
  // The group the staged file carries first, then the largest.
  const groups = [...importGroups(emails, fieldsOf)].sort((a, b) =>
    Number(file !== undefined && sameColumns(b.columns, file.columns)) - Number(file !== undefined && sameColumns(a.columns, file.columns)) ||
    b.emails.length - a.emails.length
  )
  for (const group of groups) {
    if (file !== undefined && !sameColumns(file.columns, group.columns)) {
      if (!canSend) continue
      send("other columns")
    }
    let part: Array<Email> = []
    let partBytes = 0
    const flushPart = () => {
      if (part.length > 0) steps.push(new StageRows({ audience, emails: part as [Email, ...Array<Email>], columns: group.columns, csvBytes: partBytes }, trusted))
      part = []
      partBytes = 0
    }
    for (const email of group.emails) {
      const row = rowBytes(email, group.columns, fieldsOf)
      if (file === undefined) file = { columns: group.columns, bytes: headerBytes(group.columns), full: false }
      if (file.bytes + row > MarketoLimits.maxImportFileBytes) {
        flushPart()
        file.full = true
        if (!canSend) break
        send("full")
        file = { columns: group.columns, bytes: headerBytes(group.columns), full: false }
      }
      part.push(email)
      partBytes += row
      file.bytes += row
    }
    flushPart()
  }
  if (file === undefined || !canSend) return steps
  if (file.full || isFull(file.bytes)) send("full")
  else if (!staging.more) send("nothing more waits")
  else if (staging.sendNow) send("latency target")
  return steps
}
