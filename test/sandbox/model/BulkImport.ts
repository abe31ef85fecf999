// Bulk import: `POST /bulk/v1/leads.json` takes a multipart CSV file, queued and run first in,
// first out over a few slots (1016 when the queue is full, 1019 while the list has one running).
// An import takes effect when it ends, setting the lead fields of its other columns
// (model/LeadFields.ts); its status, and its failures and warnings as CSV, follow.
import { readCsv, writeCsv } from "../SandboxCsv.js"
import { nextRandom } from "../SandboxFaults.js"
import type { Answers } from "./Answers.js"
import { applyFields, fieldRefusal, partitionRefusal } from "./LeadFields.js"
import { upsertLead } from "./Leads.js"
import type { SandboxRequest, SandboxResponse } from "./SandboxRequest.js"
import type { ImportJob, SandboxState } from "./SandboxState.js"

const decoder = new TextDecoder()

/** `POST /bulk/v1/leads.json?format=csv&lookupField=email[&listId=]`. */
export const startImport = (s: SandboxState, answers: Answers, params: URLSearchParams, request: SandboxRequest, contentType: string, now: number) => {
  if (params.get("format") !== "csv") return answers.fail("1003", "Invalid format, only csv is supported here")
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  if (boundary === null) return answers.fail("613", "Invalid Multipart Request")
  const file = filePart(decoder.decode(request.body), boundary[1] ?? boundary[2]!)
  if (file === undefined) return answers.fail("613", "Invalid Multipart Request: no file part")
  const partition = partitionRefusal(s.config, params.get("partitionName") ?? undefined)
  if (partition !== undefined) return answers.fail(partition.code, partition.message)
  const listId = params.has("listId") ? Number(params.get("listId")) : undefined
  if (listId !== undefined && !s.lists.has(listId)) return answers.fail("1013", "Static list not found")
  const jobs = [...s.imports.values()]
  const queued = jobs.filter((j) => now < j.startsAt).length
  if (queued >= s.config.importMaxQueued) return answers.fail("1016", "Too many imports")
  if (listId !== undefined && jobs.some((j) => j.listId === listId && now < j.endsAt)) return answers.fail("1019", "Import to this list is in progress")
  const parsed = readCsv(file)
  if (parsed.error !== undefined) return answers.fail("1003", `Invalid CSV: ${parsed.error}`)
  const [header = [], ...rows] = parsed.rows
  const lookupField = (params.get("lookupField") ?? "email").toLowerCase()
  const emailAt = header.findIndex((h) => h.trim().toLowerCase() === lookupField)
  if (emailAt < 0) return answers.fail("1003", "lookupField not found in the CSV header")
  const refusal = fieldRefusal(s.config, header.filter((_, i) => i !== emailAt).map((h) => h.trim()))
  if (refusal !== undefined) return answers.fail(refusal.code, refusal.message)
  const filled = rows.filter((r) => r.some((f) => f !== ""))
  const startsAt = queueStart(s, jobs, now)
  const batchId = s.nextId++
  s.imports.set(batchId, {
    batchId,
    listId,
    createdAt: now,
    startsAt,
    endsAt: startsAt + s.config.importRunningMillis + filled.length * s.config.importRunningMillisPerRow,
    header,
    emailAt,
    ...(params.has("partitionName") ? { partition: params.get("partitionName")! } : {}),
    rows: filled,
    failed: takeImportFailure(s) ||
      (s.config.failImportsContaining !== undefined && filled.some((r) => r[emailAt] === s.config.failImportsContaining)),
    applied: false,
    processed: 0,
    warnings: [],
    failures: []
  })
  // Adobe's OpenAPI file requires the counters on this answer too.
  return answers.ok([{ batchId, importId: String(batchId), status: "Queued", numOfLeadsProcessed: 0, numOfRowsFailed: 0, numOfRowsWithWarning: 0 }])
}

/**
 * When a job arriving now starts: first in, first out over `importMaxRunning` slots. It waits at
 * least `importQueuedMillis`, never starts before the job ahead of it, and takes the first slot
 * the jobs ahead leave free (their times were fixed when they arrived).
 */
const queueStart = (s: SandboxState, jobs: ReadonlyArray<ImportJob>, now: number): number => {
  const slots: Array<number> = Array.from({ length: s.config.importMaxRunning }, () => 0)
  let lastStart = 0
  for (const job of [...jobs].sort((a, b) => a.batchId - b.batchId)) {
    const free = slots.indexOf(Math.min(...slots))
    slots[free] = job.endsAt
    lastStart = Math.max(lastStart, job.startsAt)
  }
  return Math.max(now + s.config.importQueuedMillis, Math.min(...slots), lastStart)
}

const takeImportFailure = (s: SandboxState): boolean => {
  if (s.failNextImports <= 0) return false
  s.failNextImports--
  return true
}

/** Whether the failure knob puts this row into failures.csv (a listed email, or a seeded draw). */
const rowFails = (s: SandboxState, email: string): boolean =>
  s.importRowFailures.emails.includes(email.toLowerCase()) ||
  (s.importRowFailures.rate > 0 && nextRandom(s.faults) < s.importRowFailures.rate)

/** Rows of these emails, and others at `rate`, fail in the imports that complete from now on. */
export const failImportRows = (s: SandboxState, rate: number, emails: ReadonlyArray<string> = []) => {
  s.importRowFailures = { emails: emails.map((e) => e.trim().toLowerCase()), rate: Math.min(1, Math.max(0, rate)) }
}

/** The next `count` imports end Failed (as Marketo's do when a file cannot be processed). */
export const failImports = (s: SandboxState, count: number) => {
  s.failNextImports = Math.max(0, Math.floor(count))
}

const importState = (job: ImportJob, now: number): "Queued" | "Importing" | "Complete" | "Failed" => {
  if (now < job.startsAt) return "Queued"
  if (now < job.endsAt) return "Importing"
  return job.failed ? "Failed" : "Complete"
}

/** Imports take effect when they end (a queued or running import is not yet membership). */
export const advanceImports = (s: SandboxState, now: number) => {
  for (const job of s.imports.values()) {
    if (job.applied || now < job.endsAt) continue
    job.applied = true
    if (job.failed) continue
    const list = job.listId === undefined ? undefined : s.lists.get(job.listId)
    for (const row of job.rows) {
      const email = (row[job.emailAt] ?? "").trim()
      if (row.length !== job.header.length) {
        job.failures.push([...row, "Column count does not match the header"])
        continue
      }
      if (email === "") {
        job.failures.push([...row, "Value for lookup field 'email' not specified"])
        continue
      }
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
        job.warnings.push([...row, "Invalid email address"])
        continue
      }
      if ((s.byEmail.get(email.toLowerCase()) ?? []).length > 1) {
        job.warnings.push([...row, "Multiple lead match lookup criteria"])
        continue
      }
      if (rowFails(s, email)) {
        job.failures.push([...row, "Failed to import the row: a system error occurred"])
        continue
      }
      const lead = upsertLead(s, email, job.endsAt)
      // Every other column is a lead field; an empty cell blanks it unless the instance keeps it.
      const values: Record<string, string> = {}
      job.header.forEach((h, i) => {
        if (i !== job.emailAt && (row[i] !== "" || !s.config.importBlankCellsKeep)) values[h.trim()] = row[i] ?? ""
      })
      applyFields(lead, values)
      if (lead.partition === undefined && job.partition !== undefined) lead.partition = job.partition
      job.processed++
      if (list !== undefined) {
        list.members.add(lead.id)
        list.sorted = undefined
        list.updatedAt = job.endsAt
      }
    }
  }
}

const importStatus = (job: ImportJob, now: number) => {
  const status = importState(job, now)
  const done = status === "Complete"
  return {
    batchId: job.batchId,
    importId: String(job.batchId),
    status,
    numOfLeadsProcessed: done ? job.processed : 0,
    numOfRowsFailed: done ? job.failures.length : 0,
    numOfRowsWithWarning: done ? job.warnings.length : 0,
    message: status === "Failed"
      ? "Import failed: the file could not be processed"
      : done
      ? `Import completed with ${job.failures.length} failures and ${job.warnings.length} warnings`
      : `Import ${status.toLowerCase()}`
  }
}

/** `GET /bulk/v1/leads/batch/{id}.json`. */
export const importStatusOf = (s: SandboxState, answers: Answers, batchId: number, now: number) => {
  const job = s.imports.get(batchId)
  return job === undefined ? answers.fail("1013", "Import not found") : answers.ok([importStatus(job, now)])
}

/** `GET /bulk/v1/leads/batch/{id}/failures.json` or `…/warnings.json`: CSV, not the envelope. */
export const importReport = (s: SandboxState, answers: Answers, batchId: number, kind: "failures" | "warnings"): SandboxResponse => {
  const job = s.imports.get(batchId)
  if (job === undefined) return answers.fail("1013", "Import not found")
  // The rows as sent, with the reason as an extra last column; only once the import has run.
  const done = job.applied
  const rows = !done ? [] : kind === "warnings" ? job.warnings : job.failures
  const csv = writeCsv([[...job.header, kind === "warnings" ? "Import Warning Reason" : "Import Failure Reason"], ...rows])
  return { status: 200, headers: { "content-type": "text/csv;charset=UTF-8" }, body: csv }
}

/** The `file` part of a multipart/form-data body. */
const filePart = (body: string, boundary: string): string | undefined => {
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf("\r\n\r\n")
    if (split < 0) continue
    const headers = part.slice(0, split)
    if (!/name="file"/i.test(headers)) continue
    return part.slice(split + 4).replace(/\r\n$/, "")
  }
  return undefined
}
