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
    req.on("close", () => {
      if (!req.complete) reject(new Error("the connection closed before the body was complete"))
    })
  })

export interface SandboxServerOptions {
  readonly port?: number
  readonly host?: string
  readonly config?: Partial<SandboxConfig>
  readonly seed?: number
  /** Sees every Marketo request and the sandbox's answer (conformance checks). */
  readonly onExchange?: (request: SandboxRequest, response: SandboxResponse) => void
  /** Told of a request whose body never arrived whole (the benchmarks log it: the call never ran). */
  readonly onBrokenRequest?: (broken: { readonly method: string; readonly path: string; readonly received: number; readonly declared: string; readonly error: string }) => void
}

export const startSandboxServer = async (options: SandboxServerOptions = {}): Promise<SandboxServer> => {
  const sandbox = new SandboxModel(options.config ?? {}, options.seed ?? 1)

  // One of: move forward (or back) by `advanceMillis`, set the offset from real time, or set the time itself.
  const clock = (input: Record<string, unknown>) => {
    const number = (key: string) => {
      const value = Number(input[key])
      if (!Number.isFinite(value)) throw new Error(`${key} must be a number`)
      return value
    }
    if ("advanceMillis" in input) sandbox.advanceClock(number("advanceMillis"))
    else if ("offsetMillis" in input) sandbox.clockOffsetMillis = number("offsetMillis")
    else if ("nowMillis" in input) sandbox.setClock(number("nowMillis"), Date.now())
    else if (typeof input["now"] === "string" && Number.isFinite(Date.parse(input["now"]))) sandbox.setClock(Date.parse(input["now"]), Date.now())
    else throw new Error("give advanceMillis, offsetMillis, nowMillis or now (ISO 8601)")
  }

  const control = (command: string, method: string, input: Record<string, unknown>): readonly [number, unknown] => {
    if (command === "reset" && method === "POST") {
      sandbox.reset({ ...options.config, ...(input["config"] as object | undefined) }, Number(input["seed"] ?? options.seed ?? 1))
      return [200, { reset: true }]
    }
    if (command === "clock" && (method === "GET" || method === "POST")) {
      if (method === "POST") clock(input)
      const now = sandbox.now(Date.now())
      return [200, { now, nowIso: new Date(now).toISOString(), offsetMillis: sandbox.clockOffsetMillis }]
    }
    if (command === "faults" && method === "POST") {
      sandbox.setFaults((input["rules"] ?? []) as ReadonlyArray<FaultRule>, input["seed"] === undefined ? undefined : Number(input["seed"]))
      return [200, { ok: true, rules: sandbox.faults.list() }]
    }
    if (command === "faults" && method === "GET") return [200, { rules: sandbox.faults.list() }]
    if (command === "quota" && method === "POST") {
      const used = Number(input["usedToday"])
      if (!Number.isFinite(used) || used < 0) throw new Error("usedToday must be a number >= 0")
      sandbox.useQuota(used, Date.now())
      return [200, { ok: true, usedToday: sandbox.counters(Date.now()).usedToday }]
    }
    if (command === "fail-imports" && method === "POST") {
      const count = Number(input["count"])
      if (!Number.isFinite(count) || count < 0) throw new Error("count must be a number >= 0")
      sandbox.failImports(count)
      return [200, { ok: true, count: sandbox.state.failNextImports }]
    }
    if (command === "fail-import-rows" && method === "POST") {
      const rate = Number(input["rate"] ?? 0)
      const emails = input["emails"] ?? []
      if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error("rate must be a number from 0 to 1")
      if (!Array.isArray(emails) || emails.some((e) => typeof e !== "string")) throw new Error("emails must be an array of strings")
      sandbox.failImportRows(rate, emails as Array<string>)
      return [200, { ok: true, ...sandbox.state.importRowFailures }]
    }
    if (command === "merge" && method === "POST") {
      if (typeof input["email"] === "string") return [200, { ok: true, winner: sandbox.mergeDuplicates(input["email"], Date.now()) ?? null }]
      const loser = Number(input["loserId"])
      const winner = Number(input["winnerId"])
      if (!Number.isInteger(loser) || !Number.isInteger(winner)) throw new Error("give email, or loserId and winnerId")
      return [200, { ok: true, winner: sandbox.mergeLeads(loser, winner, Date.now()) }]
    }
    if ((command === "delete-list" || command === "rename-list") && method === "POST") {
      const list = typeof input["id"] === "number" ? input["id"] : typeof input["name"] === "string" ? input["name"] : undefined
      if (list === undefined) throw new Error("give the list's id or name")
      if (command === "delete-list") return [sandbox.deleteList(list) ? 200 : 404, { ok: true }]
      if (typeof input["to"] !== "string") throw new Error("give the new name as to")
      return [sandbox.renameList(list, input["to"], Date.now()) ? 200 : 404, { ok: true }]
    }
    if (command === "revoke-tokens" && method === "POST") {
      sandbox.revokeTokens()
      return [200, { ok: true }]
    }
    if (command === "client-secret" && method === "POST") {
      const secret = input["clientSecret"]
      if (typeof secret !== "string" || secret.length === 0) throw new Error("give the new secret as clientSecret")
      sandbox.setClientSecret(secret)
      return [200, { ok: true }]
    }
    if (command === "counters" && method === "GET") return [200, { ...sandbox.counters(Date.now()), log: sandbox.log.slice(-1000) }]
    if (command === "snapshot" && method === "GET") return [200, sandbox.snapshot()]
    return [404, { error: "unknown sandbox control route" }]
  }

  // Node refuses request heads over 16 KiB with its own 431; the model decides URI limits (8 KiB,
  // 65,536 bytes on the Asset API), so the shell must let longer ones through.
  const server = createServer({ maxHeaderSize: 1_048_576 }, (req, res) => {
    void (async () => {
      const body = await readBody(req).catch((error: unknown) => {
        options.onBrokenRequest?.({
          method: req.method ?? "",
          path: (req.url ?? "").split("?")[0] ?? "",
          received: req.socket.bytesRead,
          declared: req.headers["content-length"] ?? req.headers["transfer-encoding"] ?? "",
          error: error instanceof Error ? `${error.message}${"code" in error ? ` [${String(error.code)}]` : ""}` : String(error)
        })
        throw error
      })
      const url = req.url ?? "/"
      const method = req.method ?? "GET"
      const send = (status: number, text: string, type = "application/json") => {
        res.writeHead(status, { "content-type": type })
        res.end(text)
      }
      if (url === "/" && method === "GET") return send(200, sandboxPage(sandbox, Date.now()), "text/html; charset=utf-8")
      if (url.startsWith("/__sandbox/")) {
        const command = url.slice("/__sandbox/".length).split("?")[0] ?? ""
        let input: Record<string, unknown> = {}
        try {
          if (body.byteLength > 0) input = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>
        } catch {
          return send(400, "{\"error\":\"the body is not JSON\"}")
        }
        try {
          const [status, answer] = control(command, method, input)
          return send(status, JSON.stringify(answer))
        } catch (e) {
          return send(400, JSON.stringify({ error: String(e) }))
        }
      }
      const headers: Record<string, string> = {}
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k.toLowerCase()] = v
      const request = { method, url, headers, body }
      // Marketo decides 615 on arrival: a call beyond the limit in flight is refused at once.
      const busy = sandbox.refuseIfBusy(request, Date.now())
      if (busy !== undefined) {
        options.onExchange?.(request, busy)
        res.writeHead(busy.status, busy.headers)
        return res.end(busy.body)
      }
      sandbox.inFlight++
      try {
        // Marketo decides a call when it arrives (token, window, quota, the change itself); the
        // latency holds the answer, and the call stays in flight until it is sent.
        const latency = sandbox.latencyFor(request)
        const answer = sandbox.handle(request, Date.now())
        if (latency > 0) await new Promise((r) => setTimeout(r, latency))
        options.onExchange?.(request, answer)
        if (answer.drop === true) return req.socket.destroy()
        res.writeHead(answer.status, answer.headers)
        res.end(answer.body)
      } finally {
        sandbox.inFlight--
      }
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    sandbox,
    get clockOffsetMillis() {
      return sandbox.clockOffsetMillis
    },
    set clockOffsetMillis(v: number) {
      sandbox.clockOffsetMillis = v
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
