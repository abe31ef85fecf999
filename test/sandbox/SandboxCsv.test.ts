// The sandbox's own RFC 4180 reader and writer: quotes, commas, CRLF and LF, line ends inside
// quoted fields, formula-like values kept as they are, malformed text named; and the product's
// CSV writer read back by it (an independent reader, so a shared mistake cannot hide).
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { csvDocument } from "../../core/3-plan/Csv.js"
import { readCsv, writeCsv, writeField } from "./SandboxCsv.js"

describe("sandbox CSV (RFC 4180)", () => {
  it("reads plain fields, CRLF and LF line ends, and no empty record after the last line end", () => {
    expect(readCsv("email,firstName\r\na@x.io,Ada\r\n").rows).toEqual([["email", "firstName"], ["a@x.io", "Ada"]])
    expect(readCsv("email\nb@x.io\nc@x.io").rows).toEqual([["email"], ["b@x.io"], ["c@x.io"]])
    expect(readCsv("").rows).toEqual([])
  })

  it("reads quoted fields holding commas, doubled quotes, CR, LF and CRLF", () => {
    const text = "email,note\r\n\"quoted,\"\"x\"\"@example.com\",\"line one\r\nline two\nthree\rfour\"\r\n"
    expect(readCsv(text)).toEqual({ rows: [["email", "note"], ["quoted,\"x\"@example.com", "line one\r\nline two\nthree\rfour"]] })
  })

  it("keeps spaces and empty fields, a trailing comma included", () => {
    expect(readCsv(" a , b ,\r\n,,\r\n").rows).toEqual([[" a ", " b ", ""], ["", "", ""]])
    expect(readCsv("a,").rows).toEqual([["a", ""]])
    expect(readCsv("\"\"").rows).toEqual([[""]])
  })

  it("keeps a leading = as it is, and the quote a client puts before it to keep a spreadsheet from running it", () => {
    expect(readCsv("email,company\r\na@x.io,=HYPERLINK(\"\"x\"\")\r\n").error).toBeDefined()
    expect(readCsv("email,company\r\na@x.io,\"=SUM(A1:A2)\"\r\nb@x.io,'=1+2\r\n").rows).toEqual([
      ["email", "company"],
      ["a@x.io", "=SUM(A1:A2)"],
      ["b@x.io", "'=1+2"]
    ])
  })

  it("names what is malformed: a quote never closed, text after a closing quote, a quote inside an unquoted field", () => {
    expect(readCsv("email\r\n\"open@x.io\r\n").error).toMatch(/never closed/)
    expect(readCsv("\"a\"b,c\r\n").error).toMatch(/after the closing quote/)
    expect(readCsv("a\"b,c\r\n").error).toMatch(/inside an unquoted field/)
  })

  it("writes fields quoted only when they need it, with CRLF after every record", () => {
    expect(writeField("plain@x.io")).toBe("plain@x.io")
    expect(writeField("a,b")).toBe("\"a,b\"")
    expect(writeField("say \"hi\"")).toBe("\"say \"\"hi\"\"\"")
    expect(writeCsv([["email", "Import Failure Reason"], ["x@y.io", "Value for lookup field 'email' not specified"]]))
      .toBe("email,Import Failure Reason\r\nx@y.io,Value for lookup field 'email' not specified\r\n")
  })

  it("reads back what it writes, for any fields", () => {
    fc.assert(fc.property(fc.array(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }), (rows) => {
      // One empty field alone on a line is an empty line, which RFC 4180 readers may drop.
      fc.pre(rows.every((r) => r.length > 1 || r[0] !== ""))
      expect(readCsv(writeCsv(rows))).toEqual({ rows })
    }))
  })

  it("reads the product's import files back exactly, whatever the emails and extra columns hold", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.emailAddress(), fc.string()), { minLength: 1, maxLength: 20 }), (records) => {
      const rows = records.map(([email, note]) => [email, note])
      expect(readCsv(csvDocument(["email", "note"], rows))).toEqual({ rows: [["email", "note"], ...rows] })
    }))
  })
})
