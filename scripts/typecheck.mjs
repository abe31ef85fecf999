// npm run typecheck: the two TypeScript programs (the product: tsconfig.json; the Node-side tests,
// sandbox and scripts: tsconfig.node.json) checked at the same time, each on its own core, each
// one's errors printed whole after it ends. Fails if either fails.
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")

const check = (project) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, "--noEmit", "-p", project], { cwd: root, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += chunk))
    child.stderr.on("data", (chunk) => (output += chunk))
    child.on("error", (error) => resolve({ project, code: 1, output: `could not start tsc: ${error.message}\n` }))
    child.on("close", (code) => resolve({ project, code: code ?? 1, output }))
  })

const results = await Promise.all(["tsconfig.json", "tsconfig.node.json"].map(check))
for (const { project, code, output } of results) {
  if (output.length > 0) process.stdout.write(output)
  if (code !== 0) console.error(`typecheck: ${project} has errors`)
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1)
