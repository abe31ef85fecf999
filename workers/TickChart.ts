// The last 24 hours of ticks as a small server-rendered SVG: calls per hour as bars against the
// hour's share of the budget (a line), and a red mark under every hour with a failed tick.
import { type HourOfTicks } from "../core/5-tick/TickOutcome.js"

const width = 480
const height = 120
const bottom = 100

export const renderTickChart = (hours: ReadonlyArray<HourOfTicks>, callsPerHourBudget: number): string => {
  const top = Math.max(callsPerHourBudget, ...hours.map((h) => h.calls), 1)
  const y = (calls: number) => bottom - Math.round((calls / top) * (bottom - 10))
  const step = width / hours.length
  const bars = hours.map((h, i) => {
    const x = Math.round(i * step) + 1
    const barWidth = Math.max(1, Math.round(step) - 2)
    const bar = h.calls === 0 ? "" : `<rect x="${x}" y="${y(h.calls)}" width="${barWidth}" height="${bottom - y(h.calls)}" fill="#4a7bd0"><title>${h.calls} calls, ${h.ticks} ticks</title></rect>`
    const failed = h.failed === 0 ? "" : `<rect class="failed" x="${x}" y="${bottom + 4}" width="${barWidth}" height="6" fill="#c0392b"><title>${h.failed} failed tick${h.failed === 1 ? "" : "s"}</title></rect>`
    return bar + failed
  }).join("")
  const budgetLine = `<line x1="0" x2="${width}" y1="${y(callsPerHourBudget)}" y2="${y(callsPerHourBudget)}" stroke="#888" stroke-dasharray="4 3"><title>budget: ${callsPerHourBudget} calls per hour</title></line>`
  const label = (text: string, x: number, anchor: string) =>
    `<text x="${x}" y="${height - 2}" font-size="10" fill="#666" text-anchor="${anchor}">${text}</text>`
  return `<svg role="img" aria-label="Marketo calls per hour over the last 24 hours, with failed ticks marked" viewBox="0 0 ${width} ${height}" width="100%" class="chart">${bars}${budgetLine}${
    label("24 h ago", 0, "start")
  }${label("now", width, "end")}${label(`${callsPerHourBudget}/h budget`, width / 2, "middle")}</svg>`
}
