// SVG charts for docs/benchmarks.md, drawn from the bench's own figures (no chart library: two
// simple plots do not justify a dependency).
const colors: Record<string, string> = { ours: "#1f77b4", segment_hourly: "#d62728", per_record: "#7f7f7f" }
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;")

const frame = (width: number, height: number, body: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui,sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
${body}
</svg>
`

/** Cumulative calls over the simulated day, per strategy, against the quota and its half. */
export const callsChart = (perHour: Partial<Record<string, ReadonlyArray<number>>>, quota: number): string => {
  const w = 720, h = 360, left = 70, right = 150, top = 30, bottom = 40
  const series = Object.entries(perHour).map(([name, hours]) => {
    const cumulative: Array<number> = [0]
    for (let i = 0; i < 24; i++) cumulative.push(cumulative[i]! + (hours?.[i] ?? 0))
    return { name, cumulative }
  })
  const max = Math.max(quota, ...series.flatMap((s) => s.cumulative)) * 1.05
  const x = (hour: number) => left + (hour / 24) * (w - left - right)
  const y = (calls: number) => h - bottom - (calls / max) * (h - top - bottom)
  let body = `<text x="${left}" y="18" font-size="14" font-weight="bold">Marketo calls over the simulated day (cumulative)</text>\n`
  for (let hour = 0; hour <= 24; hour += 6) body += `<text x="${x(hour)}" y="${h - bottom + 16}" text-anchor="middle">${hour} h</text>\n`
  for (let i = 0; i <= 4; i++) {
    const v = Math.round((max / 4) * i / 1000) * 1000
    body += `<line x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toLocaleString("en-US")}</text>\n`
  }
  for (const [value, label] of [[quota, "daily quota"], [quota / 2, "half the quota"]] as const) {
    body += `<line x1="${left}" x2="${w - right}" y1="${y(value)}" y2="${y(value)}" stroke="#999" stroke-dasharray="6 4"/><text x="${w - right + 6}" y="${y(value) + 4}" fill="#666">${label}</text>\n`
  }
  for (const s of series) {
    const points = s.cumulative.map((c, i) => `${x(i).toFixed(1)},${y(c).toFixed(1)}`).join(" ")
    const last = s.cumulative[24]!
    body += `<polyline fill="none" stroke="${colors[s.name] ?? "#000"}" stroke-width="2.5" points="${points}"/>\n`
    body += `<text x="${w - right + 6}" y="${y(last) - 6}" fill="${colors[s.name] ?? "#000"}">${esc(s.name)}: ${last.toLocaleString("en-US")}</text>\n`
  }
  return frame(w, h, body)
}

/** Latency from event to list, p50 and p95, per strategy, in minutes. */
export const latencyChart = (rows: Partial<Record<string, { latency_p50_s?: number; latency_p95_s?: number }>>): string => {
  const entries = Object.entries(rows).filter(([, r]) => r?.latency_p95_s !== undefined) as Array<[string, { latency_p50_s: number; latency_p95_s: number }]>
  const w = 720, h = 300, left = 130, top = 40, barH = 16
  const max = Math.max(1, ...entries.map(([, r]) => r.latency_p95_s / 60)) * 1.1
  const x = (minutes: number) => left + (minutes / max) * (w - left - 90)
  let body = `<text x="10" y="20" font-size="14" font-weight="bold">Latency from event to list over the simulated day (minutes)</text>\n`
  entries.forEach(([name, r], i) => {
    const y0 = top + i * (barH * 2 + 24)
    body += `<text x="${left - 8}" y="${y0 + barH + 4}" text-anchor="end">${esc(name)}</text>\n`
    for (const [k, value, shade] of [["p50", r.latency_p50_s / 60, 0.55], ["p95", r.latency_p95_s / 60, 1]] as const) {
      const y = k === "p50" ? y0 : y0 + barH + 2
      body += `<rect x="${left}" y="${y}" width="${Math.max(1, x(value) - left).toFixed(1)}" height="${barH}" fill="${colors[name] ?? "#000"}" fill-opacity="${shade}"/>`
      body += `<text x="${x(value) + 6}" y="${y + 12}">${k} ${value.toFixed(1)} min</text>\n`
    }
  })
  return frame(w, Math.max(h, top + entries.length * (barH * 2 + 24) + 20), body)
}
