// The model's bulk import: first in first out over two running slots and a queue of ten, 1016
// and 1019, failure and warning reports as CSV, and imports that end Failed.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf, importInto } from "./SandboxTestKit.js"

describe("bulk import", () => {
  it("runs two imports at a time first in first out, queues ten more, and refuses the next with 1016", () => {
    const m = new SandboxModel({ importQueuedMillis: 0, importRunningMillis: 1_000 })
    const { call, token } = caller(m)
    const batches = Array.from({ length: 12 }, (_, i) => importInto(m, token(), `email\r\nq${i}@example.com\r\n`, 0).result![0]!["batchId"] as number)
    expect(codeOf(importInto(m, token(), "email\r\nlate@example.com\r\n", 0))).toBe("1016")
    const status = (batch: number, at: number) => call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, at).result![0]!["status"]
    expect(batches.map((b) => status(b, 500))).toEqual([...Array(2).fill("Importing"), ...Array(10).fill("Queued")])
    expect(batches.map((b) => status(b, 1_500))).toEqual([...Array(2).fill("Complete"), ...Array(2).fill("Importing"), ...Array(8).fill("Queued")])
    // Two have started, so the queue has room again.
    expect(importInto(m, token(), "email\r\nlate@example.com\r\n", 1_500).success).toBe(true)
    expect(batches.map((b) => status(b, 6_000))).toEqual(Array(12).fill("Complete"))
  })

  it("refuses a second import into a list whose import is in progress with 1019, and an unknown list with 1013", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }, { name: "K" }] })
    const { call, token } = caller(m)
    const [l, k] = ["L", "K"].map((n) => call("GET", `/rest/v1/lists.json?name=${n}`).result![0]!["id"] as number)
    expect(importInto(m, token(), "email\r\na@x.io\r\n", 0, l).success).toBe(true)
    expect(codeOf(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, l))).toBe("1019")
    expect(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, k).success).toBe(true)
    expect(codeOf(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, 424242))).toBe("1013")
    expect(importInto(m, token(), "email\r\nc@x.io\r\n", 8_000, l).success).toBe(true)
  })

  it("reports failed and warned rows as CSV, each row as sent with the reason as its last column", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10 })
    const { call, raw, token } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    const csv = "email,firstName\r\nok@example.com,Ada\r\n\"not an email\",\"Lovelace, A\"\r\n,Blank\r\n\"quoted,\"\"x\"\"@example.com\",Q\r\n"
    const batch = importInto(m, token(), csv, 0, list).result![0]!["batchId"] as number
    expect(raw("GET", `/bulk/v1/leads/batch/${batch}/warnings.json`).body).toBe("email,firstName,Import Warning Reason\r\n")
    expect(call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, 20).result?.[0]).toMatchObject({
      status: "Complete",
      numOfLeadsProcessed: 2,
      numOfRowsFailed: 1,
      numOfRowsWithWarning: 1
    })
    const warnings = raw("GET", `/bulk/v1/leads/batch/${batch}/warnings.json`, undefined, 20)
    expect(warnings.headers["content-type"]).toContain("text/csv")
    expect(warnings.body).toBe("email,firstName,Import Warning Reason\r\nnot an email,\"Lovelace, A\",Invalid email address\r\n")
    expect(raw("GET", `/bulk/v1/leads/batch/${batch}/failures.json`, undefined, 20).body)
      .toBe("email,firstName,Import Failure Reason\r\n,Blank,Value for lookup field 'email' not specified\r\n")
    expect(m.members("L")).toEqual(["ok@example.com", "quoted,\"x\"@example.com"])
  })

  it("ends Failed, importing nothing, when configured to fail a file", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], failImportsContaining: "boom@example.com", importQueuedMillis: 0, importRunningMillis: 10 })
    const { call, token } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    const batch = importInto(m, token(), "email\r\nfine@example.com\r\nboom@example.com\r\n", 0, list).result![0]!["batchId"] as number
    expect(call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, 20).result?.[0]?.["status"]).toBe("Failed")
    expect(m.members("L")).toEqual([])
  })
})
