// The soak's worker host on Deno (npm run soak -- --runtime deno): the Deno server (deno/main.ts)
// as a process over a Deno KV file that outlives it, so a kill in the middle of a tick is a crash
// and the next process starts on the same state. The cron trigger is POST /admin/sync (Deno.cron
// cannot be fired from outside; its own minute ticks run too, and meet the lease like any other).
// A preloaded shim shifts the server's `Date` by the soak's clock offset, as WorkerHost.ts's does
// inside workerd. Deno KV is strongly consistent here, so there is no stale-read wrapper.
import { writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { startDenoServer } from "../../scripts/DenoServer.js"
import type { WorkerHost, WorkerHostOptions } from "./WorkerHost.js"
import { marketoClientSecret } from "./WorkerHost.js"

const clockShim = `
const RealDate = Date;
const offset = Number(Deno.env.get("SOAK_CLOCK_OFFSET_MILLIS") ?? "0");
const shifted = function Date(...args) {
  if (!new.target) return new RealDate(RealDate.now() + offset).toString();
  return args.length === 0 ? new RealDate(RealDate.now() + offset) : new RealDate(...args);
};
shifted.prototype = RealDate.prototype;
shifted.now = () => RealDate.now() + offset;
shifted.parse = RealDate.parse;
shifted.UTC = RealDate.UTC;
globalThis.Date = shifted;
`

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })

export type DenoHostOptions = Omit<WorkerHostOptions, "bundle" | "staleMillis" | "staleRate">

export const startDenoWorker = async (options: DenoHostOptions): Promise<WorkerHost> => {
  const shim = join(options.persistDir, "clock-shim.js")
  writeFileSync(shim, clockShim)
  const server = await startDenoServer({
    host: "127.0.0.1",
    port: await freePort(),
    kvPath: join(options.persistDir, "state.sqlite3"),
    allowNet: ["127.0.0.1"],
    output: "pipe",
    preload: [shim],
    settings: {
      MARKETO_ENDPOINT: options.marketoEndpoint,
      MARKETO_CLIENT_ID: "local-client-id",
      MARKETO_CLIENT_SECRET: marketoClientSecret,
      MARKETO_FOLDER: "Engage Audiences",
      MARKETO_CALLS_PER_20S: String(options.callsPer20s),
      MARKETO_MAX_CONCURRENCY: "5",
      MARKETO_DAILY_QUOTA: "50000",
      MARKETO_DAILY_RESERVE: "5000",
      INGEST_TOKEN: options.ingestToken,
      ADMIN_TOKEN: options.adminToken,
      SOAK_CLOCK_OFFSET_MILLIS: String(Math.round(options.clockOffsetMillis))
    }
  })
  for (const stream of [server.process.stdout, server.process.stderr]) {
    if (stream !== null) createInterface({ input: stream }).on("line", (line) => options.onLog?.(line))
  }
  const fetchServer = (path: string, init?: RequestInit) => fetch(`${server.url}${path}`, init)
  return {
    fetch: fetchServer,
    // Any answer is the handler ending, as the cron handler's outcome is "ok" whatever the sync did.
    scheduled: async () => {
      const response = await fetchServer("/admin/sync", { method: "POST", headers: { authorization: `Bearer ${options.adminToken}` } })
      await response.body?.cancel()
      return "ok"
    },
    dispose: () => server.close()
  }
}
