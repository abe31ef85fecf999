// Splitting leads into bulk-import files that each stay under Marketo's 10 MB limit. A file's
// columns are the email and the lead fields its rows carry. Rows are grouped by the fields they
// carry, so no row ever has an empty cell: Marketo may read an empty cell as "blank this field",
// and an empty value must never blank one. Each file's size is exact: the UTF-8 bytes of the CSV
// that `csvOf` writes, which is what the client sends.
import { csvDocument, csvFieldBytes, emailHeaderBytes, emailRowBytes } from "./Csv.js"
import type { Email } from "../1-events/Email.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"

/** The lead field values an email's row carries (none: an email-only row). */
export type FieldsOf = (email: Email) => Readonly<Record<string, string>> | undefined
const noFields: FieldsOf = () => undefined

export interface ImportFile {
  readonly emails: ReadonlyArray<Email>
  /** The lead field columns after `email`, the same for every row of the file. */
  readonly columns: ReadonlyArray<string>
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

export interface ImportGroup {
  readonly columns: ReadonlyArray<string>
  readonly emails: ReadonlyArray<Email>
}

/** Emails grouped by the fields their rows carry, in order of first appearance. */
export const importGroups = (emails: ReadonlyArray<Email>, fieldsOf: FieldsOf = noFields): ReadonlyArray<ImportGroup> => {
  const groups = new Map<string, { columns: ReadonlyArray<string>; emails: Array<Email> }>()
  for (const email of emails) {
    const fields = fieldsOf(email)
    const columns = fields === undefined ? [] : Object.keys(fields)
    const key = columns.join(",")
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { columns, emails: [email] })
    else group.emails.push(email)
  }
  return [...groups.values()]
}

/** UTF-8 bytes of a file's header row: `email` and its columns. */
export const headerBytes = (columns: ReadonlyArray<string>) =>
  columns.reduce((n, c) => n + 1 + csvFieldBytes(c), emailHeaderBytes)

/** UTF-8 bytes of one email's row with these columns. */
export const rowBytes = (email: Email, columns: ReadonlyArray<string>, fieldsOf: FieldsOf) => {
  let bytes = emailRowBytes(email)
  if (columns.length === 0) return bytes
  const fields = fieldsOf(email)!
  for (const c of columns) bytes += 1 + csvFieldBytes(fields[c]!)
  return bytes
}

/** One group's rows in files under `maxBytes`, in order. */
export const chunkGroup = (group: ImportGroup, fieldsOf: FieldsOf = noFields, maxBytes: number = MarketoLimits.maxImportFileBytes): ReadonlyArray<ImportFile> => {
  const files: Array<ImportFile> = []
  const header = headerBytes(group.columns)
  let current: Array<Email> = []
  let bytes = header
  for (const email of group.emails) {
    const row = rowBytes(email, group.columns, fieldsOf)
    if (current.length > 0 && bytes + row > maxBytes) {
      files.push({ emails: current, columns: group.columns, csvBytes: bytes })
      current = []
      bytes = header
    }
    current.push(email)
    bytes += row
  }
  if (current.length > 0) files.push({ emails: current, columns: group.columns, csvBytes: bytes })
  return files
}

/** Every file the emails need: each group of rows carrying the same fields, split under `maxBytes`. */
export const importFiles = (emails: ReadonlyArray<Email>, fieldsOf: FieldsOf = noFields, maxBytes: number = MarketoLimits.maxImportFileBytes) =>
  importGroups(emails, fieldsOf).flatMap((group) => chunkGroup(group, fieldsOf, maxBytes))

/** Email-only rows (no lead fields) in files under `maxBytes`. */
export const chunkEmailsByBytes = (emails: ReadonlyArray<Email>, maxBytes: number = MarketoLimits.maxImportFileBytes): ReadonlyArray<ImportFile> =>
  importFiles(emails, noFields, maxBytes)

/** The CSV of a file: header `email` and its columns, one row per email. */
export const csvOf = (file: ImportFile, fieldsOf: FieldsOf = noFields): string =>
  csvDocument(["email", ...file.columns], file.emails.map((email) => {
    const fields = file.columns.length === 0 ? undefined : fieldsOf(email)
    return [email, ...file.columns.map((c) => fields![c]!)]
  }))

/**
 * Which groups to import (each file an import plus its poll: 2 calls) and which emails to upsert
 * and add (2 calls per 300) for the fewest calls. A group pays off in proportion to its emails per
 * file, so the best choice imports the k best groups for some k. Ties go to fewer imports.
 */
export const chooseImports = (groups: ReadonlyArray<{ readonly emails: number; readonly files: number }>, total: number) => {
  const upsertCalls = (n: number) => 2 * Math.ceil(n / MarketoLimits.batchSize)
  const order = groups.map((g, i) => ({ ...g, i })).sort((a, b) => b.emails / b.files - a.emails / a.files || a.i - b.i)
  let best = { count: 0, calls: upsertCalls(total) }
  let files = 0
  let imported = 0
  order.forEach((g, k) => {
    files += g.files
    imported += g.emails
    const calls = 2 * files + upsertCalls(total - imported)
    if (calls < best.calls) best = { count: k + 1, calls }
  })
  return { imported: new Set(order.slice(0, best.count).map((g) => g.i)), calls: best.calls }
}
