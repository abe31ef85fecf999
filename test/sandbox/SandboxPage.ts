// GET / on the sandbox: what a person trying the product wants to see — folders, lists with their
// members, imports, calls per endpoint and the latest calls with their outcomes. Server-rendered,
// no script.
import type { SandboxModel } from "./SandboxModel.js"

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const shownMembers = 200
const shownLeads = 200

/** `clock` is the shell's time reading, so the window and the day's use are shown as of now. */
export const sandboxPage = (model: SandboxModel, clock?: number): string => {
  const snap = model.snapshot()
  const counters = model.counters(clock)
  const lists = snap.lists.map((l) =>
    `<section><h3>${esc(l.name)} <small>id ${l.id} · folder ${l.folderId} · ${l.members.length} members</small></h3>` +
    `<p>${l.members.slice(0, shownMembers).map(esc).join(", ") || "<em>empty</em>"}${l.members.length > shownMembers ? " …" : ""}</p></section>`
  ).join("")
  const imports = snap.imports.slice(-20).reverse().map((j) =>
    `<tr><td>${j.batchId}</td><td>${j.listId ?? ""}</td><td>${j.rows}</td><td>${new Date(j.startsAt).toISOString()}</td><td>${new Date(j.endsAt).toISOString()}</td></tr>`
  ).join("")
  const endpoints = Object.entries(counters.byEndpointAndOutcome).sort(([a], [b]) => a.localeCompare(b)).map(([endpoint, outcomes]) =>
    `<tr><td>${esc(endpoint)}</td><td>${esc(Object.entries(outcomes).map(([o, n]) => `${o} ${n}`).join(", "))}</td></tr>`
  ).join("")
  const calls = model.log.slice(-50).reverse().map((c) =>
    `<tr><td>${new Date(c.at).toISOString()}</td><td>${esc(c.method)}</td><td>${esc(c.path)}</td><td>${c.status}</td><td>${esc(c.outcome)}</td></tr>`
  ).join("")
  const fieldNames = [...new Set(snap.leads.flatMap((l) => Object.keys(l.fields)))].sort()
  const leads = snap.leads.slice(0, shownLeads).map((l) =>
    `<tr><td>${l.id}</td><td>${esc(l.email)}</td>${fieldNames.map((f) => `<td>${esc(l.fields[f] ?? "")}</td>`).join("")}<td>${esc(l.partition ?? "")}</td></tr>`
  ).join("")
  const faults = model.faults.list()
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Marketo sandbox</title><style>body{font:14px system-ui,sans-serif;margin:1rem;max-width:70rem}td,th{padding:.2rem .5rem;text-align:left}
small{color:#666;font-weight:normal}table{border-collapse:collapse}tr:nth-child(odd){background:#f4f4f4}</style></head><body>
<h1>Marketo sandbox</h1>
<p>${counters.calls} calls, ${counters.usedToday} of ${model.config.dailyQuota} counted today${counters.quotaResetsAt === undefined ? "" : ` (resets ${new Date(counters.quotaResetsAt).toISOString()})`},
${counters.inWindow} of ${model.config.callsPerWindow} in the current ${model.config.windowMillis / 1000} s window, ${counters.inFlight} in flight.
Clock offset ${snap.clockOffsetMillis} ms. ${faults.length === 0 ? "No faults injected." : `Faults: ${esc(JSON.stringify(faults))}`}</p>
<h2>Folders</h2><ul>${snap.folders.map((f) => `<li>${esc(f.path)} <small>id ${f.id}, ${esc(f.type)}</small></li>`).join("")}</ul>
<h2>Static lists</h2>${lists || "<p><em>none yet</em></p>"}
<h2>Leads</h2>${leads === "" ? "<p><em>none yet</em></p>" : `<table><tr><th>id</th><th>email</th>${fieldNames.map((f) => `<th>${esc(f)}</th>`).join("")}<th>partition</th></tr>${leads}</table>${snap.leads.length > shownLeads ? `<p>… ${snap.leads.length - shownLeads} more</p>` : ""}`}
<h2>Imports</h2>${imports === "" ? "<p><em>none yet</em></p>" : `<table><tr><th>batch</th><th>list</th><th>rows</th><th>starts</th><th>ends</th></tr>${imports}</table>`}
<h2>Calls by endpoint</h2><table><tr><th>endpoint</th><th>outcomes</th></tr>${endpoints}</table>
<h2>Latest calls</h2><table><tr><th>time</th><th>method</th><th>path</th><th>HTTP</th><th>outcome</th></tr>${calls}</table></body></html>`
}
