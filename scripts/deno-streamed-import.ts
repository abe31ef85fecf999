// node node_modules/vite-node/vite-node.mjs scripts/deno-streamed-import.ts — serves the Marketo
// sandbox on 127.0.0.1 (a free port), runs test/deno/streamedImport.ts under Deno (offline, network
// only to that port), and checks that the sandbox took the streamed import whole: 60,000 rows.
import { spawn } from "node:child_process"
import { startSandboxServer } from "../test/sandbox/server.js"
import { offlineFlags, root } from "./deno-offline.mjs"

const server = await startSandboxServer({ host: "127.0.0.1", port: 0 })
const url = server.url ?? `http://127.0.0.1:${server.port}`
try {
  // Not spawnSync: the sandbox answers from this process's event loop.
  const run = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn("npx", ["--no-install", "deno", "run", ...offlineFlags, "--quiet", `--allow-net=${new URL(url).host}`, "test/deno/streamedImport.ts", url], {
      cwd: root,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += String(d)))
    child.stderr.on("data", (d) => (stderr += String(d)))
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })
  if (run.status !== 0) throw new Error(`deno exited ${run.status}: ${run.stderr}`)
  const sent = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { listId: number; batchId: number }
  const job = server.sandbox.snapshot().imports.find((i) => i.batchId === sent.batchId)
  if (job?.rows !== 60_000 || job.listId !== sent.listId) throw new Error(`the sandbox holds ${JSON.stringify(job)}`)
  console.log(JSON.stringify({ deno_streamed_import: "ok", rows: job.rows }))
} finally {
  await server.close?.()
}
