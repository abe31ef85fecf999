// Splitting emails into bulk-import files that each stay under Marketo's 10 MB limit.
import { emailHeaderBytes, emailRowBytes } from "./Csv.js"
import type { Email } from "../1-events/Email.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"

export interface ImportFile {
  readonly emails: ReadonlyArray<Email>
  readonly csvBytes: number
}

/** How many files `chunkEmailsByBytes` would make, without making them. */
export const importFileCount = (emails: ReadonlyArray<Email>, maxBytes: number = MarketoLimits.maxImportFileBytes): number => {
  let files = 0
  let rows = 0
  let bytes = emailHeaderBytes
  for (const email of emails) {
    const row = emailRowBytes(email)
    if (rows > 0 && bytes + row > maxBytes) {
      files++
      rows = 0
      bytes = emailHeaderBytes
    }
    rows++
    bytes += row
  }
  return rows > 0 ? files + 1 : files
}

export const chunkEmailsByBytes = (
  emails: ReadonlyArray<Email>,
  maxBytes: number = MarketoLimits.maxImportFileBytes
): ReadonlyArray<ImportFile> => {
  const files: Array<ImportFile> = []
  let current: Array<Email> = []
  let bytes = emailHeaderBytes
  for (const email of emails) {
    const row = emailRowBytes(email)
    if (current.length > 0 && bytes + row > maxBytes) {
      files.push({ emails: current, csvBytes: bytes })
      current = []
      bytes = emailHeaderBytes
    }
    current.push(email)
    bytes += row
  }
  if (current.length > 0) files.push({ emails: current, csvBytes: bytes })
  return files
}
