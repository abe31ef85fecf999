// The sandbox's own CSV, written from RFC 4180 and sharing nothing with the product's: an import
// file is read here as Marketo would read it, so a quoting mistake the product's writer makes cannot
// be hidden by the same mistake in a shared reader. The failures and warnings reports are written
// here too, in Marketo's form: the header, then each row as it was sent with the reason last.
//
// RFC 4180, section 2: records end with CRLF (a lone LF is accepted too, as Marketo does); fields
// are separated by commas; a field may be enclosed in double quotes, and then may hold commas,
// CR, LF and double quotes, each quote written twice. Spaces belong to the field.

export interface CsvParse {
  readonly rows: Array<Array<string>>
  /** Why the text is not RFC 4180, when it is not (the rows read up to that point are kept). */
  readonly error?: string
}

const QUOTE = 0x22
const COMMA = 0x2c
const CR = 0x0d
const LF = 0x0a

/** Reads a whole CSV text into rows of fields. A final line end does not start an empty record. */
export const readCsv = (text: string): CsvParse => {
  const rows: Array<Array<string>> = []
  let record: Array<string> = []
  let at = 0
  const end = text.length
  const endRecord = () => {
    rows.push(record)
    record = []
  }
  while (at < end) {
    let field: string
    if (text.charCodeAt(at) === QUOTE) {
      // An escaped field: up to the quote that is not doubled.
      let value = ""
      let from = at + 1
      for (;;) {
        const close = text.indexOf("\"", from)
        if (close < 0) return { rows, error: `a quoted field opened at offset ${at} is never closed` }
        value += text.slice(from, close)
        if (text.charCodeAt(close + 1) === QUOTE) {
          value += "\""
          from = close + 2
          continue
        }
        at = close + 1
        break
      }
      field = value
      const next = text.charCodeAt(at)
      if (at < end && next !== COMMA && next !== CR && next !== LF) {
        return { rows, error: `text after the closing quote of a field at offset ${at}` }
      }
    } else {
      let stop = at
      while (stop < end) {
        const c = text.charCodeAt(stop)
        if (c === COMMA || c === CR || c === LF) break
        if (c === QUOTE) return { rows, error: `a double quote inside an unquoted field at offset ${stop}` }
        stop++
      }
      field = text.slice(at, stop)
      at = stop
    }
    record.push(field)
    if (at >= end) {
      endRecord()
      break
    }
    const c = text.charCodeAt(at)
    if (c === COMMA) {
      at++
      // A comma at the very end of the text still separates an empty last field.
      if (at >= end) {
        record.push("")
        endRecord()
      }
      continue
    }
    // A line end: CRLF, or LF alone. A CR alone ends the record too.
    at += c === CR && text.charCodeAt(at + 1) === LF ? 2 : 1
    endRecord()
  }
  return { rows }
}

const mustQuote = /[",\r\n]/

/** One field as RFC 4180 writes it: enclosed in quotes (each quote doubled) when it needs them. */
export const writeField = (value: string): string => (mustQuote.test(value) ? `"${value.replace(/"/g, "\"\"")}"` : value)

/** Rows as a CSV text with CRLF after every record. */
export const writeCsv = (rows: ReadonlyArray<ReadonlyArray<string>>): string =>
  rows.map((row) => row.map(writeField).join(",") + "\r\n").join("")
