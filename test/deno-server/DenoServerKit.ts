// The sandbox and the Deno server (deno/main.ts) on free local ports, with a fresh Deno KV file:
// what the end-to-end tests of the Deno server drive over HTTP, as test/workers/WorkerKit.ts
// drives the worker inside workerd.
import { mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type DenoServer, startDenoServer } from "../../scripts/DenoServer.js"
import { workerVars } from "../../scripts/WorkerVars.js"
import { type SandboxServer, startSandboxServer } from "../sandbox/server.js"

export const tokens = { INGEST_TOKEN: "deno-ingest-token", INGEST_SECRET: "deno-ingest-secret", ADMIN_TOKEN: "deno-admin-token" } as const

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

export interface Rig {
  readonly sandbox: SandboxServer
  readonly server: DenoServer
  readonly url: string
  close(): Promise<void>
}

export const startRig = async (settings: Readonly<Record<string, string>> = {}): Promise<Rig> => {
  const sandbox = await startSandboxServer({ port: 0, host: "127.0.0.1" })
  const folder = mkdtempSync(join(tmpdir(), "deno-server-test-"))
  try {
    const server = await startDenoServer({
      host: "127.0.0.1",
      port: await freePort(),
      kvPath: join(folder, "state.sqlite3"),
      settings: { ...workerVars({ ...tokens, ...settings }, sandbox.url) },
      allowNet: ["127.0.0.1"],
      output: process.env["DENO_SERVER_LOGS"] === "1" ? "inherit" : "ignore"
    })
    return {
      sandbox,
      server,
      url: server.url,
      close: async () => {
        await server.close()
        await sandbox.close()
        rmSync(folder, { recursive: true, force: true })
      }
    }
  } catch (error) {
    await sandbox.close()
    rmSync(folder, { recursive: true, force: true })
    throw error
  }
}

export const admin = (rig: Rig, path: string, init: RequestInit = {}) =>
  fetch(`${rig.url}${path}`, { ...init, headers: { authorization: `Bearer ${tokens.ADMIN_TOKEN}`, ...init.headers } })

export const send = async (rig: Rig, events: ReadonlyArray<unknown>) => {
  const response = await fetch(`${rig.url}/v1/batch`, {
    method: "POST",
    body: JSON.stringify({ batch: events }),
    headers: { "content-type": "application/json", authorization: `Bearer ${tokens.INGEST_TOKEN}` }
  })
  if (response.status !== 200) throw new Error(`ingest answered ${response.status}: ${await response.text()}`)
  return response.json() as Promise<{ accepted: number; ignored?: number }>
}

/** One sync tick through POST /admin/sync; a 409 (Deno.cron's tick holds the lease) waits and asks again. */
export const tick = async (rig: Rig): Promise<Record<string, unknown>> => {
  for (let i = 0; i < 100; i++) {
    const response = await admin(rig, "/admin/sync", { method: "POST" })
    if (response.status === 200) return response.json() as Promise<Record<string, unknown>>
    if (response.status !== 409) throw new Error(`sync answered ${response.status}: ${await response.text()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error("the lease stayed held")
}

export const members = (rig: Rig, list: string) => rig.sandbox.sandbox.members(list)
