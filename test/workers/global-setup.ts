// Node side of the workers tests: serve the Marketo sandbox on 127.0.0.1 (when it exists) and
// hand its URL to the worker as MARKETO_ENDPOINT.
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    sandboxUrl: string
  }
}

interface SandboxServer {
  readonly url?: string
  readonly port?: number
  readonly close?: () => Promise<void> | void
  readonly stop?: () => Promise<void> | void
}

export default async function setup(project: TestProject) {
  process.env["WRANGLER_SEND_METRICS"] = "false"
  process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
  const serverPath = fileURLToPath(new URL("../sandbox/server.ts", import.meta.url))
  if (!existsSync(serverPath)) return
  const module = (await import(serverPath)) as {
    startSandboxServer?: (options: { port: number; host: string }) => Promise<SandboxServer>
  }
  if (module.startSandboxServer === undefined) return
  const server = await module.startSandboxServer({ port: 0, host: "127.0.0.1" })
  project.provide("sandboxUrl", server.url ?? `http://127.0.0.1:${server.port}`)
  return async () => {
    await (server.close ?? server.stop)?.()
  }
}
