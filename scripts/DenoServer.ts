// Starts the Deno server (deno/main.ts) with the `deno` npm package, offline (the flags of
// scripts/deno-offline.mjs), in a process group of its own so that stopping it stops npx and Deno
// together: for `npm run start:deno`, the end-to-end test and the soak.
import { type ChildProcess, spawn } from "node:child_process"
import { offlineFlags, root } from "./deno-offline.mjs"

export interface DenoServerOptions {
  readonly host: string
  readonly port: number
  /** The Deno KV database file; its folder is the only place the server may write. */
  readonly kvPath: string
  /** The settings (the README's table), as the process environment. */
  readonly settings: Readonly<Record<string, string>>
  /** Hosts the server may connect to and listen on (Deno's --allow-net); all when empty. */
  readonly allowNet?: ReadonlyArray<string>
  /** "pipe": the caller reads the process's stdout and stderr (the soak scans them). */
  readonly output?: "inherit" | "ignore" | "pipe"
  /** Modules run before deno/main.ts (Deno's --preload), e.g. the soak's clock shim. */
  readonly preload?: ReadonlyArray<string>
}

export interface DenoServer {
  readonly url: string
  readonly process: ChildProcess
  /** Stop the process group; resolves when it has exited. */
  close(): Promise<void>
}

const folderOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf("/"))) || "/"

export const denoServerArgs = (options: DenoServerOptions): Array<string> => [
  "--no-install", "deno", "run", ...offlineFlags,
  // Type-checking is `npm run test:deno`'s; starting without it takes a second instead of fifteen.
  "--no-check",
  "--unstable-kv", "--unstable-cron",
  "--allow-env",
  `--allow-net${options.allowNet === undefined || options.allowNet.length === 0 ? "" : `=${options.allowNet.join(",")}`}`,
  "--allow-read",
  `--allow-write=${folderOf(options.kvPath)}`,
  ...(options.preload ?? []).map((path) => `--preload=${path}`),
  "deno/main.ts"
]

export const startDenoServer = async (options: DenoServerOptions): Promise<DenoServer> => {
  const child = spawn("npx", denoServerArgs(options), {
    cwd: root,
    detached: true,
    stdio: ["ignore", options.output ?? "inherit", options.output ?? "inherit"],
    env: {
      ...process.env,
      ...options.settings,
      DENO_KV_PATH: options.kvPath,
      HOST: options.host,
      PORT: String(options.port),
      DENO_NO_UPDATE_CHECK: "1",
      DENO_NO_PROMPT: "1"
    }
  })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const close = async () => {
    try {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM")
    } catch { /* already gone */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
  }
  const url = `http://${options.host}:${options.port}`
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`the Deno server exited with ${child.exitCode}`)
    if (await fetch(`${url}/health`).then((r) => r.ok, () => false)) return { url, process: child, close }
    await new Promise((r) => setTimeout(r, 250))
  }
  await close()
  throw new Error("the Deno server did not answer /health within 60 s")
}
