// The real worker (workers/index.ts, bundled by wrangler as for a deploy) inside workerd through
// Miniflare, with its KV namespace and Durable Object persisted to a directory, so an instance can
// be disposed in the middle of a tick (a crash) and a new one started on the same state.
//
// Two test-only wrappers, both outside the worker's code:
// - the STATE binding is a wrapped binding over the real KV namespace that hides each write for
//   `staleMillis` (reads answer null, as Workers KV does while a write propagates to another
//   location), like adapters/cloudflare/testing/StaleKv.ts;
// - a clock shim prepended to the bundle shifts the worker's `Date` by `clockOffsetMillis`, so the
//   worker and the sandbox move together when the soak jumps time (a daily quota reset at midnight
//   US Central, the minutes a crashed worker stays down).
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import type { Readable } from "node:stream"
import { fileURLToPath } from "node:url"
import { Miniflare } from "miniflare"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** `wrangler deploy --dry-run`: the worker exactly as it would be uploaded, built offline. */
export const bundleWorker = (): string => {
  const outdir = mkdtempSync(join(tmpdir(), "soak-bundle-"))
  try {
    execFileSync(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outdir], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" }
    })
    return readFileSync(join(outdir, "index.js"), "utf8")
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}

const clockShim = (offsetMillis: number) => `
{
  const RealDate = Date;
  const offset = ${Math.round(offsetMillis)};
  const shifted = function Date(...args) {
    if (!new.target) return new RealDate(RealDate.now() + offset).toString();
    return args.length === 0 ? new RealDate(RealDate.now() + offset) : new RealDate(...args);
  };
  shifted.prototype = RealDate.prototype;
  shifted.now = () => RealDate.now() + offset;
  shifted.parse = RealDate.parse;
  shifted.UTC = RealDate.UTC;
  globalThis.Date = shifted;
}
`

// A KV binding whose writes stay invisible to reads for `delayMillis` (null, never an older value).
const staleKvScript = `
const writtenAt = new Map();
let prng = 0;
const random = () => {
  prng = (prng + 0x6d2b79f5) | 0;
  let t = Math.imul(prng ^ (prng >>> 15), 1 | prng);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
export default function (env) {
  const delay = Number(env.delayMillis ?? 0);
  const rate = Number(env.rate ?? 0);
  if (prng === 0) prng = Number(env.seed ?? 1) | 0;
  return {
    async get(key, options) {
      const at = writtenAt.get(key);
      if (at !== undefined && Date.now() - at < delay) return null;
      return env.INNER.get(key, options);
    },
    async put(key, value, options) {
      if (random() < rate) writtenAt.set(key, Date.now());
      await env.INNER.put(key, value, options);
    },
    async delete(key) { writtenAt.delete(key); await env.INNER.delete(key); },
    async list(options) { return env.INNER.list(options); }
  };
}
`

export interface WorkerHostOptions {
  readonly bundle: string
  readonly persistDir: string
  readonly marketoEndpoint: string
  readonly ingestToken: string
  readonly adminToken: string
  readonly callsPer20s: number
  readonly clockOffsetMillis: number
  /** A share of KV writes stays invisible to reads for `staleMillis`. */
  readonly staleMillis: number
  readonly staleRate: number
  readonly seed: number
  /** Each line the worker logs (workerd's stdout and stderr). */
  readonly onLog?: (line: string) => void
}

/** The Marketo client secret the hosted worker is given (the sandbox accepts any). */
export const marketoClientSecret = "local-client-secret"

export interface WorkerHost {
  readonly fetch: (path: string, init?: RequestInit) => Promise<Response>
  /** Fires the cron trigger; resolves when the handler and its waitUntil work have ended. */
  readonly scheduled: () => Promise<string>
  readonly dispose: () => Promise<void>
}

export const startWorker = async (options: WorkerHostOptions): Promise<WorkerHost> => {
  const mf = new Miniflare({
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => {
      for (const stream of [stdout, stderr]) {
        createInterface({ input: stream }).on("line", (line) => options.onLog?.(line))
      }
    },
    kvPersist: join(options.persistDir, "kv"),
    durableObjectsPersist: join(options.persistDir, "do"),
    workers: [
      {
        name: "marketo-static-lists",
        modules: [{ type: "ESModule", path: join(root, "soak-worker.mjs"), contents: clockShim(options.clockOffsetMillis) + options.bundle }],
        compatibilityDate: "2026-03-01",
        compatibilityFlags: ["nodejs_compat"],
        bindings: {
          MARKETO_ENDPOINT: options.marketoEndpoint,
          MARKETO_CLIENT_ID: "local-client-id",
          MARKETO_CLIENT_SECRET: marketoClientSecret,
          MARKETO_FOLDER: "Engage Audiences",
          MARKETO_CALLS_PER_20S: String(options.callsPer20s),
          MARKETO_MAX_CONCURRENCY: "5",
          MARKETO_DAILY_QUOTA: "50000",
          MARKETO_DAILY_RESERVE: "5000",
          INGEST_TOKEN: options.ingestToken,
          ADMIN_TOKEN: options.adminToken
        },
        durableObjects: { MARKETO_INSTANCE: { className: "MarketoInstance", useSQLite: true } },
        wrappedBindings: {
          STATE: { scriptName: "stale-kv", bindings: { delayMillis: options.staleMillis, rate: options.staleRate, seed: options.seed } }
        }
      },
      {
        name: "stale-kv",
        modules: true,
        script: staleKvScript,
        kvNamespaces: { INNER: "state" }
      }
    ]
  })
  await mf.ready
  const worker = await mf.getWorker("marketo-static-lists")
  return {
    fetch: async (path, init) => {
      const response = await mf.dispatchFetch(`http://worker.soak${path}`, init as never)
      return response as unknown as Response
    },
    scheduled: async () => {
      const result = await worker.scheduled({ cron: "*/1 * * * *", scheduledTime: new Date(Date.now() + options.clockOffsetMillis) })
      return result.outcome
    },
    dispose: () => mf.dispose()
  }
}
