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

/** One bench:tick JSON line, the figures the cost-by-size chart draws. */
export interface TickCostRow {
  readonly members: number
  readonly tick_cpu_ms: number
  /** Absent when the run could not sample the heap enough to give a peak. */
  readonly tick_heap_peak_used_mb?: number
  readonly kv_reads?: number
  readonly kv_writes?: number
  readonly tick_calls: number
}

/** Cost of one 2% churn tick against the audience's size: four panels, members on a log scale. */
export const costBySizeChart = (rows: ReadonlyArray<TickCostRow>): string => {
  const sorted = [...rows].sort((a, b) => a.members - b.members)
  const panels: ReadonlyArray<{ title: string; unit: string; value: (r: TickCostRow) => number | undefined; limit?: number }> = [
    { title: "CPU per tick", unit: "s", value: (r) => r.tick_cpu_ms / 1000, limit: 30 },
    { title: "peak heap used, garbage incl.", unit: "MB", value: (r) => r.tick_heap_peak_used_mb, limit: 128 },
    { title: "KV reads + writes", unit: "", value: (r) => r.kv_reads === undefined || r.kv_writes === undefined ? undefined : r.kv_reads + r.kv_writes },
    { title: "Marketo calls", unit: "", value: (r) => r.tick_calls }
  ]
  const pw = 230, ph = 220, left = 50, top = 50, gap = 20
  const w = panels.length * (pw + gap) + left, h = top + ph + 60
  const logs = sorted.map((r) => Math.log10(r.members))
  const [lo, hi] = [Math.min(...logs) - 0.3, Math.max(...logs) + 0.3]
  let body = `<text x="10" y="20" font-size="14" font-weight="bold">One 2% churn tick against the audience's size (npm run bench:tick -- --members N; medians)</text>\n`
  panels.forEach((panel, i) => {
    const x0 = left + i * (pw + gap)
    const points = sorted.map((r) => ({ r, v: panel.value(r) })).filter((p): p is { r: TickCostRow; v: number } => p.v !== undefined)
    const max = Math.max(panel.limit ?? 0, ...points.map((p) => p.v)) * 1.1 || 1
    const x = (members: number) => x0 + ((Math.log10(members) - lo) / (hi - lo)) * pw
    const y = (v: number) => top + ph - (v / max) * ph
    body += `<text x="${x0}" y="${top - 14}" font-weight="bold">${esc(panel.title)}${panel.unit === "" ? "" : ` (${panel.unit})`}</text>\n`
    body += `<rect x="${x0}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#ccc"/>\n`
    if (panel.limit !== undefined) {
      body += `<line x1="${x0}" x2="${x0 + pw}" y1="${y(panel.limit)}" y2="${y(panel.limit)}" stroke="#d62728" stroke-dasharray="6 4"/><text x="${x0 + pw - 4}" y="${y(panel.limit) - 4}" text-anchor="end" fill="#d62728">limit ${panel.limit}</text>\n`
    }
    for (const r of sorted) body += `<text x="${x(r.members)}" y="${top + ph + 16}" text-anchor="middle">${r.members >= 1e6 ? `${r.members / 1e6}M` : `${r.members / 1e3}k`}</text>\n`
    body += `<polyline fill="none" stroke="${colors["ours"]}" stroke-width="2" points="${points.map((p) => `${x(p.r.members).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ")}"/>\n`
    for (const p of points) {
      const label = p.v >= 100 || Number.isInteger(p.v) ? Math.round(p.v).toLocaleString("en-US") : p.v.toFixed(1)
      body += `<circle cx="${x(p.r.members).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="3.5" fill="${colors["ours"]}"/><text x="${x(p.r.members).toFixed(1)}" y="${(y(p.v) - 8).toFixed(1)}" text-anchor="middle">${label}</text>\n`
    }
  })
  body += `<text x="${left}" y="${h - 12}" fill="#666">members (log scale); a size missing from a panel was not measured</text>\n`
  return frame(w, h, body)
}
