// Imported rows as parts of the staged file: filled up to 10 MB, sent when full (the rest starting
// the next file), when nothing more waits or when the latency target needs it, never while another
// import of the list stays in flight; one set of lead fields per file.
import { describe, expect, it } from "vitest"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { headerBytes, rowBytes } from "../../../core/3-plan/ImportFiles.js"
import { planAudience } from "../../../core/3-plan/Planner.js"
import { planCalls } from "../../../core/3-plan/CostModel.js"
import { isFull, type Staging, stagedSteps } from "../../../core/3-plan/StagedFiles.js"
import { MarketoLimits } from "../../../core/marketo/MarketoLimits.js"

const audience = "big" as AudienceKey
const emails = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com` as Email)
const none = () => undefined
const open: Staging = { blocked: false, more: true, sendNow: false }
const tags = (steps: ReadonlyArray<{ _tag: string }>) => steps.map((s) => s._tag)
const rowsOf = (steps: ReadonlyArray<{ _tag: string }>) => steps.flatMap((s) => ("emails" in s ? [(s as { emails: ReadonlyArray<Email> }).emails.length] : []))

describe("staged files", () => {
  it("stages the rows as one part and keeps the file while more adds wait", () => {
    const steps = stagedSteps(audience, emails(1_000), none, open)
    expect(tags(steps)).toEqual(["StageRows"])
    const bytes = emails(1_000).reduce((n, e) => n + rowBytes(e, [], none), 0)
    expect(steps[0]).toMatchObject({ columns: [], csvBytes: bytes })
  })

  it("sends the file once nothing more waits, or when the latency target needs it", () => {
    expect(tags(stagedSteps(audience, emails(1_000), none, { ...open, more: false }))).toEqual(["StageRows", "SendStaged"])
    expect(tags(stagedSteps(audience, emails(1_000), none, { ...open, sendNow: true }))).toEqual(["StageRows", "SendStaged"])
    // Nothing new, a file staged: it goes when nothing more waits.
    expect(tags(stagedSteps(audience, [], none, { ...open, more: false, staged: { columns: [], bytes: 5_000 } }))).toEqual(["SendStaged"])
    expect(tags(stagedSteps(audience, [], none, { ...open, staged: { columns: [], bytes: 5_000 } }))).toEqual([])
  })

  it("each send says why it goes now", () => {
    const whys = (steps: ReadonlyArray<{ _tag: string }>) => steps.flatMap((s) => ("why" in s ? [s.why] : []))
    expect(whys(stagedSteps(audience, emails(1_000), none, { ...open, more: false }))).toEqual(["nothing more waits"])
    expect(whys(stagedSteps(audience, emails(1_000), none, { ...open, sendNow: true }))).toEqual(["latency target"])
    const nearlyFull = { columns: [] as ReadonlyArray<string>, bytes: MarketoLimits.maxImportFileBytes - 10_000 }
    expect(whys(stagedSteps(audience, emails(1_000), none, { ...open, staged: nearlyFull }))).toEqual(["full"])
    const named = (e: Email) => (e.startsWith("named") ? { firstName: "Ada" } : undefined)
    expect(whys(stagedSteps(audience, emails(10, "named"), named, { ...open, staged: { columns: [], bytes: 5_000 } }))).toEqual(["other columns"])
  })

  it("fills the file to 10 MB, sends it, and starts the next with the rows past it", () => {
    const rows = emails(100_000)
    const room = 100 * rowBytes(rows[0]!, [], none)
    const staged = { columns: [] as ReadonlyArray<string>, bytes: MarketoLimits.maxImportFileBytes - room - 1 - 200_000 }
    const steps = stagedSteps(audience, rows, none, { ...open, staged })
    expect(tags(steps)).toEqual(["StageRows", "SendStaged", "StageRows"])
    const [first, second] = rowsOf(steps)
    expect(first! + second!).toBe(100_000)
    const firstBytes = (steps[0] as { csvBytes: number }).csvBytes
    expect(staged.bytes + firstBytes).toBeLessThanOrEqual(MarketoLimits.maxImportFileBytes)
    expect(isFull(staged.bytes + firstBytes)).toBe(true)
  })

  it("while another import stays in flight, stages only what fits and sends nothing", () => {
    const rows = emails(100_000)
    const staged = { columns: [] as ReadonlyArray<string>, bytes: MarketoLimits.maxImportFileBytes - 300_000 }
    const steps = stagedSteps(audience, rows, none, { ...open, blocked: true, more: false, staged })
    expect(tags(steps)).toEqual(["StageRows"])
    expect((steps[0] as { csvBytes: number }).csvBytes).toBeLessThanOrEqual(300_000)
    expect(rowsOf(steps)[0]).toBeLessThan(100_000)
  })

  it("one set of lead fields per file: other columns wait for the next file, or go once the staged one is sent", () => {
    const named = emails(500, "named")
    const fieldsOf = (e: Email) => (e.startsWith("named") ? { firstName: "Ada" } : undefined)
    const staged = { columns: [] as ReadonlyArray<string>, bytes: headerBytes([]) + 1_000 }
    const all = [...emails(500), ...named]
    // The group the file carries first; then it is sent and the named rows start a file of their own.
    const steps = stagedSteps(audience, all, fieldsOf, { ...open, staged })
    expect(tags(steps)).toEqual(["StageRows", "SendStaged", "StageRows"])
    expect(steps[2]).toMatchObject({ columns: ["firstName"] })
    // Blocked: only the rows of the file's columns are staged.
    expect(tags(stagedSteps(audience, all, fieldsOf, { ...open, blocked: true, staged }))).toEqual(["StageRows"])
  })

  it("the planner stages what it imports, counts the send as an import and its poll, and joins a small tail to an open file", () => {
    const delta = { audience, listName: "big", folderName: "F", add: emails(1_000).map((email) => ({ email })), remove: [], pendingImports: [], listId: 1 as never }
    const plan = planAudience(delta, { staging: { ...open, more: false } })
    expect(tags(plan.steps)).toEqual(["StageRows", "SendStaged"])
    expect(planCalls(plan)).toBe(2)
    // 200 adds alone go by upsert + add; with a file staged that has room they join it, at no call.
    const tail = { ...delta, add: emails(200).map((email) => ({ email })) }
    expect(tags(planAudience(tail, { staging: open }).steps)).toEqual(["UpsertLeads", "AddToList"])
    expect(tags(planAudience(tail, { staging: { ...open, staged: { columns: [], bytes: 5_000_000 } } }).steps)).toEqual(["StageRows"])
    // Without staging, imports go as before: one ImportLeads per file.
    expect(tags(planAudience(delta).steps)).toEqual(["ImportLeads"])
  })
})
