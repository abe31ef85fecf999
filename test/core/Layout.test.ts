// The layout of core/ is the path a membership change takes: a stage folder imports only earlier
// stages and the shared folders (marketo/, ports/), a port imports none of its implementations,
// and no module imports itself back through others.
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const core = fileURLToPath(new URL("../../core", import.meta.url))
const stageOrder = ["1-events", "2-ledger", "3-plan", "4-apply", "5-tick"]
const shared = ["marketo", "ports"]

const modules = readdirSync(core, { recursive: true, encoding: "utf8" })
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.split("\\").join("/"))

const importsOf = (module: string): ReadonlyArray<string> =>
  [...readFileSync(join(core, module), "utf8").matchAll(/from "(\.{1,2}\/[^"]+)"/g)].map((m) =>
    relative(core, resolve(dirname(join(core, module)), m[1]!)).split("\\").join("/").replace(/\.js$/, ".ts"))

const folderOf = (module: string) => module.split("/")[0]!
/** Shared folders rank below every stage; a stage ranks by its place in the flow. */
const rank = (folder: string) => (shared.includes(folder) ? 0 : stageOrder.indexOf(folder) + 1)

describe("core layout", () => {
  it("has exactly the stage folders and the shared folders, every module in one of them", () => {
    const folders = [...new Set(modules.map(folderOf))].sort()
    expect(folders).toEqual([...stageOrder, ...shared].sort())
    expect(modules.filter((m) => !m.includes("/"))).toEqual([])
  })

  it("a stage imports only earlier stages, marketo/ and ports/; those import no stage but the first", () => {
    const backwards: Array<string> = []
    for (const module of modules) {
      for (const target of importsOf(module)) {
        const from = folderOf(module)
        const to = folderOf(target)
        const allowed = rank(from) === 0 ? rank(to) <= 1 : rank(to) <= rank(from)
        if (!allowed) backwards.push(`${module} → ${target}`)
      }
    }
    expect(backwards).toEqual([])
  })

  it("a port imports none of its implementations, and there is no import circle", () => {
    const ports = modules.filter((m) => m.startsWith("ports/") && !m.endsWith("Memory.ts"))
    for (const port of ports) expect(importsOf(port).filter((t) => t.endsWith("Memory.ts"))).toEqual([])
    const graph = new Map(modules.map((m) => [m, importsOf(m)]))
    const circles: Array<string> = []
    const state = new Map<string, "open" | "done">()
    const visit = (m: string, path: ReadonlyArray<string>) => {
      if (state.get(m) === "done") return
      if (state.get(m) === "open") return void circles.push([...path.slice(path.indexOf(m)), m].join(" → "))
      state.set(m, "open")
      for (const t of graph.get(m) ?? []) visit(t, [...path, m])
      state.set(m, "done")
    }
    for (const m of modules) visit(m, [])
    expect(circles).toEqual([])
  })

  it("no module is longer than 300 lines", () => {
    const long = modules.filter((m) => readFileSync(join(core, m), "utf8").split("\n").length > 300)
    expect(long).toEqual([])
  })
})
