// The sandbox over HTTP on 127.0.0.1, for the worker under `wrangler dev`, workerd tests and
// `npm run sandbox`. Control and inspection live under /__sandbox/ and are never part of the worker.
import { createServer, type IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import type { SandboxConfig } from "./SandboxConfig.js"
import type { FaultRule } from "./SandboxFaults.js"
import { SandboxModel, type SandboxRequest, type SandboxResponse } from "./SandboxModel.js"
import { sandboxPage } from "./SandboxPage.js"

export interface SandboxServer {
  readonly url: string
  readonly port: number
  readonly sandbox: SandboxModel
  /** Added to the real clock (token expiry, imports, windows). */
  clockOffsetMillis: number
  close(): Promise<void>
}

const readBody = (req: IncomingMessage) =>
  new Promise<Uint8Array>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))))
    req.on("error", reject)
  })

export interface SandboxServerOptions {
  readonly port?: number
  readonly host?: string
  readonly config?: Partial<SandboxConfig>
  readonly seed?: number
  /** Sees every Marketo request and the sandbox's answer (conformance checks). */
  readonly onExchange?: (request: SandboxRequest, response: SandboxResponse) => void
}

export const startSandboxServer = async (options: SandboxServerOptions = {}): Promise<SandboxServer> => {
  let sandbox = new SandboxModel(options.config ?? {}, options.seed ?? 1)
  const state = { clockOffsetMillis: 0 }
  const now = () => Date.now() + state.clockOffsetMillis

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const url = req.url ?? "/"
      const send = (status: number, text: string, type = "application/json") => {
        res.writeHead(status, { "content-type": type })
        res.end(text)
      }
      if (url === "/" && req.method === "GET") return send(200, sandboxPage(sandbox), "text/html; charset=utf-8")
      if (url.startsWith("/__sandbox/")) {
        const command = url.slice("/__sandbox/".length).split("?")[0]
        const input = body.byteLength > 0 ? JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown> : {}
        if (command === "reset" && req.method === "POST") {
          sandbox = new SandboxModel({ ...options.config, ...(input["config"] as object | undefined) }, Number(input["seed"] ?? options.seed ?? 1))
          state.clockOffsetMillis = 0
          return send(200, "{\"reset\":true}")
        }
        if (command === "clock") {
          if (req.method === "POST") state.clockOffsetMillis += Number(input["advanceMillis"] ?? 0)
          return send(200, JSON.stringify({ now: now(), offsetMillis: state.clockOffsetMillis }))
        }
        if (command === "faults" && req.method === "POST") {
          sandbox.setFaults((input["rules"] ?? []) as ReadonlyArray<FaultRule>, input["seed"] === undefined ? undefined : Number(input["seed"]))
          return send(200, "{\"ok\":true}")
        }
        if (command === "revoke-tokens" && req.method === "POST") {
          sandbox.revokeTokens()
          return send(200, "{\"ok\":true}")
        }
        if (command === "counters") return send(200, JSON.stringify({ ...sandbox.counters(), log: sandbox.log.slice(-1000) }))
        if (command === "snapshot") return send(200, JSON.stringify(sandbox.snapshot()))
        return send(404, "{\"error\":\"unknown sandbox control route\"}")
      }
      const latency = sandbox.config.latencyMillis
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k.toLowerCase()] = v
      const request = { method: req.method ?? "GET", url, headers, body }
      const busy = sandbox.refuseIfBusy(request, now())
      if (busy !== undefined) {
        res.writeHead(busy.status, busy.headers)
        return res.end(busy.body)
      }
      sandbox.inFlight++
      try {
        if (latency > 0) await new Promise((r) => setTimeout(r, latency))
        const answer = sandbox.handle(request, now())
        options.onExchange?.(request, answer)
        if (answer.drop === true) return req.socket.destroy()
        res.writeHead(answer.status, answer.headers)
        res.end(answer.body)
      } finally {
        sandbox.inFlight--
      }
    })().catch(() => {
      res.writeHead(500)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    get sandbox() {
      return sandbox
    },
    get clockOffsetMillis() {
      return state.clockOffsetMillis
    },
    set clockOffsetMillis(v: number) {
      state.clockOffsetMillis = v
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}
