// RFC 4180 CSV for Marketo bulk imports: fields quoted when they hold a comma, a quote, CR or LF,
// or leading/trailing space; quotes doubled; CRLF line ends. Values that a spreadsheet would run as
// a formula (leading = + - @, tab, CR) are never written: `isCsvSafe` lets the planner send them
// through the JSON upsert path instead, so no value is altered and none is lost.
const needsQuotes = /[",\r\n]|^\s|\s$/
const formulaStart = /^[=+\-@\t\r]/

export const isCsvSafe = (value: string): boolean => !formulaStart.test(value)

export const csvField = (value: string): string =>
  needsQuotes.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value

export const csvRow = (fields: ReadonlyArray<string>): string => fields.map(csvField).join(",") + "\r\n"

/** A whole import file: header row of Marketo field names, then one row per record. */
export const csvDocument = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  csvRow(header) + rows.map(csvRow).join("")

/** UTF-8 bytes of a string as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
export const utf8Bytes = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) bytes += 1
    else if (c < 0x800) bytes += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

/** UTF-8 bytes of one field as `csvField` writes it. */
export const csvFieldBytes = (value: string): number => utf8Bytes(csvField(value))

/** UTF-8 bytes of one email's row in an `email` import file (emails are ASCII). */
export const emailRowBytes = (email: string): number => csvField(email).length + 2

/** UTF-8 bytes of the header row `email\r\n`. */
export const emailHeaderBytes = 7

/** Parse RFC 4180 CSV (core/marketo/CsvRows.ts): the reader every side of an import file shares. */
export { parseCsv } from "../marketo/CsvRows.js"
