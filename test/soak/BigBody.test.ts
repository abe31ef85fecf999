// A 4 MiB body of one audience with 100 emails per event is stored and folded inside a Worker's
// memory: the whole path runs in a Node process whose heap is capped at 128 MB (an isolate's
// limit), with the state in the same heap. V8 aborts the process if it needs more.
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { buildSync } from "esbuild"
import { describe, expect, it } from "vitest"

describe("a 4 MiB body", () => {
  it("is stored, folded and synced whole under a 128 MB heap cap", () => {
    const directory = mkdtempSync(join(tmpdir(), "big-body-"))
    try {
      const bundle = join(directory, "child.mjs")
      buildSync({
        entryPoints: [fileURLToPath(new URL("../../scripts/bench/BigBodyChild.ts", import.meta.url))],
        bundle: true,
        platform: "node",
        format: "esm",
        outfile: bundle,
        logLevel: "silent"
      })
      const run = spawnSync(process.execPath, ["--max-old-space-size=128", bundle], { encoding: "utf8", timeout: 240_000 })
      expect(run.stderr).not.toMatch(/heap out of memory/i)
      expect(run.status).toBe(0)
      const figures = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { bodyBytes: number; events: number; folded: number; ticks: number; onList: number; heapSampledPeakMb: number; cpuSeconds: number }
      console.log(`4 MiB body: ${JSON.stringify(figures)}`)
      expect(figures.bodyBytes).toBeGreaterThan(4 * 1024 * 1024 - 3_000)
      expect(figures.folded).toBe(figures.events * 100)
      expect(figures.onList).toBe(figures.events * 100)
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  }, 300_000)
})
