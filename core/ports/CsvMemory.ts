// The in-memory Marketo's reading of an import file as it streams (MarketoApiMemory.ts `importCsv`):
// rows as the core's Csv.ts writes them, read a chunk at a time, a row split across chunks joined.
import type { Email } from "../1-events/Email.js"
import { parseCsv } from "../marketo/CsvRows.js"

/** Reads a CSV file chunk by chunk: its header names the columns after `email`. */
export const csvReader = () => {
  let columns: ReadonlyArray<string> | undefined
  let carry = ""
  const emails: Array<Email> = []
  const fields = new Map<Email, Record<string, string>>()
  const row = (cells: ReadonlyArray<string>) => {
    if (columns === undefined) {
      columns = cells.slice(1)
      return
    }
    const email = cells[0]! as Email
    emails.push(email)
    if (columns.length > 0) fields.set(email, Object.fromEntries(columns.map((c, i) => [c, cells[i + 1] ?? ""])))
  }
  // Rows without a quote are split on commas; a text with quotes (a field may hold a line break) is parsed.
  const lines = (text: string) => {
    if (text.includes("\"")) for (const cells of parseCsv(text)) row(cells)
    else for (const line of text.split("\r\n")) if (line !== "") row(line.split(","))
  }
  return {
    chunk: (text: string) => {
      const all = carry + text
      const end = all.lastIndexOf("\n") + 1
      carry = all.slice(end)
      if (end > 0) lines(all.slice(0, end))
    },
    end: () => {
      if (carry !== "") lines(carry)
      return { emails, fields: fields.size === 0 ? undefined : fields }
    }
  }
}
