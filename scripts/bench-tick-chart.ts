// npm run bench:tick-chart — docs/bench-tick-cost.svg from docs/bench-tick-sizes.jsonl: the JSON
// lines `npm run bench:tick -- --members N` printed, one per size, kept so the chart can be drawn
// again without running the benchmark.
import { readFileSync, writeFileSync } from "node:fs"
import { costBySizeChart, type TickCostRow } from "./bench/Chart.js"

const source = process.argv[2] ?? "docs/bench-tick-sizes.jsonl"
const rows = readFileSync(source, "utf8").split("\n").filter((line) => line.trim().startsWith("{")).map((line) => JSON.parse(line) as TickCostRow)
for (const [i, row] of rows.entries()) {
  for (const field of ["members", "tick_cpu_ms", "tick_calls"] as const) {
    if (typeof row[field] !== "number") throw new Error(`${source}, line ${i + 1}: "${field}" is missing; each line must be a JSON line of bench:tick`)
  }
}
writeFileSync("docs/bench-tick-cost.svg", costBySizeChart(rows))
console.log(`docs/bench-tick-cost.svg: ${rows.length} sizes (${rows.map((r) => r.members.toLocaleString("en-US")).join(", ")})`)
