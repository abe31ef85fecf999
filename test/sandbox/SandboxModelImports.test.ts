// The model's bulk import: first in first out over two running slots and a queue of ten, 1016
// and 1019, failure and warning reports as CSV, and imports that end Failed.
import { describe, expect, it } from "vitest"
import { importProfileOf, importTimings } from "./SandboxConfig.js"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf, importInto } from "./SandboxTestKit.js"

describe("bulk import", () => {
  it("takes as long as Marketo's by default: a minute queued at least, then 3 minutes plus 2 ms per row, two at a time", () => {
    const m = new SandboxModel({ lists: [{ name: "A" }, { name: "B" }, { name: "C" }] })
    const { call, token } = caller(m)
    const [a, b, c] = ["A", "B", "C"].map((n) => call("GET", `/rest/v1/lists.json?name=${n}`).result![0]!["id"] as number)
    const rows = (n: number, p: string) => `email\r\n${Array.from({ length: n }, (_, i) => `${p}${i}@example.com`).join("\r\n")}\r\n`
    const small = importInto(m, token(), rows(1, "s"), 0, a).result![0]!["batchId"] as number
    const large = importInto(m, token(), rows(50_000, "l"), 0, b).result![0]!["batchId"] as number
    // A third import waits for a running slot: the small one's, which frees first.
    const third = importInto(m, token(), rows(10, "t"), 1_000, c).result![0]!["batchId"] as number
    const status = (batch: number, at: number) => call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, at).result![0]!["status"]
    expect([small, large, third].map((id) => status(id, 59_999))).toEqual(["Queued", "Queued", "Queued"])
    expect([small, large, third].map((id) => status(id, 60_000))).toEqual(["Importing", "Importing", "Queued"])
    // 1 row: 180,002 ms running; 50,000 rows: 280,000 ms.
    expect(status(small, 240_001)).toBe("Importing")
    expect([small, large, third].map((id) => status(id, 240_002))).toEqual(["Complete", "Importing", "Importing"])
    expect(status(large, 340_000)).toBe("Complete")
    expect(status(third, 240_002 + 180_019)).toBe("Importing")
    expect(status(third, 240_002 + 180_020)).toBe("Complete")
    expect(m.members("C")).toHaveLength(10)
  })

  it("takes seconds with the fast profile, for tests that need it", () => {
    expect(importTimings("fast")).toEqual({ importQueuedMillis: 2_000, importRunningMillis: 5_000, importRunningMillisPerRow: 0 })
    expect(importProfileOf(undefined)).toBe("realistic")
    expect(importProfileOf("fast")).toBe("fast")
    expect(() => importProfileOf("instant")).toThrow(/realistic, fast/)
  })

  it("runs two imports at a time first in first out, queues ten more, and refuses the next with 1016", () => {
    const m = new SandboxModel({ importQueuedMillis: 0, importRunningMillis: 1_000, importRunningMillisPerRow: 0 })
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
    const m = new SandboxModel({ lists: [{ name: "L" }, { name: "K" }], ...importTimings("fast") })
    const { call, token } = caller(m)
    const [l, k] = ["L", "K"].map((n) => call("GET", `/rest/v1/lists.json?name=${n}`).result![0]!["id"] as number)
    expect(importInto(m, token(), "email\r\na@x.io\r\n", 0, l).success).toBe(true)
    expect(codeOf(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, l))).toBe("1019")
    expect(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, k).success).toBe(true)
    expect(codeOf(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, 424242))).toBe("1013")
    expect(importInto(m, token(), "email\r\nc@x.io\r\n", 8_000, l).success).toBe(true)
  })

  it("reports failed and warned rows as CSV, each row as sent with the reason as its last column", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10, importRunningMillisPerRow: 0 })
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
    const m = new SandboxModel({ lists: [{ name: "L" }], failImportsContaining: "boom@example.com", importQueuedMillis: 0, importRunningMillis: 10, importRunningMillisPerRow: 0 })
    const { call, token } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    const batch = importInto(m, token(), "email\r\nfine@example.com\r\nboom@example.com\r\n", 0, list).result![0]!["batchId"] as number
    expect(call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, 20).result?.[0]?.["status"]).toBe("Failed")
    expect(m.members("L")).toEqual([])
  })
})
