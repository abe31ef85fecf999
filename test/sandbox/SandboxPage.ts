// GET / on the sandbox: what a person trying the product wants to see — folders, lists with their
// members, and the latest calls with their outcomes. Server-rendered, no script.
import type { SandboxModel } from "./SandboxModel.js"

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

export const sandboxPage = (model: SandboxModel): string => {
  const snap = model.snapshot()
  const counters = model.counters()
  const lists = snap.lists.map((l) =>
    `<section><h3>${esc(l.name)} <small>id ${l.id} · folder ${l.folderId} · ${l.members.length} members</small></h3>` +
    `<p>${l.members.slice(0, 200).map(esc).join(", ") || "<em>empty</em>"}${l.members.length > 200 ? " …" : ""}</p></section>`
  ).join("")
  const calls = model.log.slice(-50).reverse().map((c) =>
    `<tr><td>${new Date(c.at).toISOString()}</td><td>${c.method}</td><td>${esc(c.path)}</td><td>${c.status}</td><td>${esc(c.outcome)}</td></tr>`
  ).join("")
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Marketo sandbox</title><style>body{font:14px system-ui,sans-serif;margin:1rem;max-width:70rem}td,th{padding:.2rem .5rem;text-align:left}
small{color:#666;font-weight:normal}table{border-collapse:collapse}tr:nth-child(odd){background:#f4f4f4}</style></head><body>
<h1>Marketo sandbox</h1><p>${counters.calls} calls, ${counters.usedToday} counted today. Outcomes: ${esc(JSON.stringify(counters.byOutcome))}</p>
<h2>Folders</h2><ul>${snap.folders.map((f) => `<li>${esc(f.path)} <small>id ${f.id}, ${esc(f.type)}</small></li>`).join("")}</ul>
<h2>Static lists</h2>${lists || "<p><em>none yet</em></p>"}
<h2>Latest calls</h2><table><tr><th>time</th><th>method</th><th>path</th><th>HTTP</th><th>outcome</th></tr>${calls}</table></body></html>`
}
