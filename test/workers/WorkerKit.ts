// What the workerd tests share: a batch sent as Segment would, a cron tick run to its end, and the
// local Marketo sandbox's control routes and lists.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { expect } from "vitest"
import worker from "../../workers/index.js"
import type { WorkerEnv } from "../../workers/WorkerEnv.js"

export const base = "https://worker.test"

/** POST /v1/batch with the ingest token; the answer must be 200. */
export const sendBatch = async (events: ReadonlyArray<unknown>) => {
  const response = await SELF.fetch(`${base}/v1/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
    body: JSON.stringify({ batch: events })
  })
  expect(response.status).toBe(200)
}

/** One cron tick, as the scheduler fires it, waited for to the end. */
export const runTick = async (withEnv: WorkerEnv = env) => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), withEnv, ctx)
  await waitOnExecutionContext(ctx)
}

/** A control route of the sandbox (`reset`, `snapshot`, `faults`, `counters`, ...), its JSON answer. */
export const sandbox = async (path: string, init?: RequestInit) => (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/${path}`, init)).json()

export interface SandboxList {
  readonly id: number
  readonly name: string
  readonly folderId: number
  readonly members: ReadonlyArray<string>
}

export const sandboxLists = async () => ((await sandbox("snapshot")) as { lists: ReadonlyArray<SandboxList> }).lists

/** The members of the sandbox's list of that name (none when there is no such list). */
export const membersOf = async (list: string) => (await sandboxLists()).find((l) => l.name === list)?.members ?? []
