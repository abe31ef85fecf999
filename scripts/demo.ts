// npm run demo (with `npm start` running): sends Engage-style events for two audiences, with each
// member's name in its traits, syncs, and prints each list's members with the first and last name
// read back through Marketo's own REST API.
const worker = process.env["WORKER_URL"] ?? "http://127.0.0.1:8787"
const marketo = process.env["MARKETO_ENDPOINT"] ?? "http://127.0.0.1:8788"
const clientId = process.env["MARKETO_CLIENT_ID"] ?? "local-client-id"
const clientSecret = process.env["MARKETO_CLIENT_SECRET"] ?? "local-client-secret"
const ingestToken = process.env["INGEST_TOKEN"] ?? "dev-ingest-token"
const adminToken = process.env["ADMIN_TOKEN"] ?? "dev-admin-token"

let n = 0
const at = () => new Date(Date.now() - 60_000 + ++n * 100).toISOString()
// Segment's spec traits firstName and lastName (MARKETO_LEAD_FIELDS maps them by default).
const names: Record<string, { firstName: string; lastName: string }> = {
  ada: { firstName: "Ada", lastName: "Lovelace" },
  grace: { firstName: "Grace", lastName: "Hopper" },
  alan: { firstName: "Alan", lastName: "Turing" },
  edsger: { firstName: "Edsger", lastName: "Dijkstra" },
  barbara: { firstName: "Barbara", lastName: "Liskov" }
}
const identify = (key: string, userId: string, email: string | undefined, member: boolean) => ({
  type: "identify",
  userId,
  messageId: `demo-${key}-${userId}-${email ?? "none"}-${member}-${n}`,
  timestamp: at(),
  traits: { ...names[userId], ...(email === undefined ? {} : { email }), [key]: member },
  context: { personas: { computation_class: "audience", computation_key: key, space_id: "spa_demo" } }
})

const send = async (events: ReadonlyArray<unknown>) => {
  const response = await fetch(`${worker}/v1/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Basic ${btoa(`${ingestToken}:`)}` },
    body: JSON.stringify({ batch: events })
  })
  console.log(`POST /v1/batch → ${response.status} ${await response.text()}`)
}

const main = async () => {
  await send([
    identify("first_time_shopper", "ada", "ada@example.com", true),
    // Engage sends one event per email of a user with several.
    identify("first_time_shopper", "grace", "grace@example.com", true),
    identify("first_time_shopper", "grace", "grace.hopper@work.example.com", true),
    identify("first_time_shopper", "alan", undefined, true),
    identify("first_time_shopper", "edsger", "edsger@example.com", true),
    identify("vip_customers", "ada", "ada@example.com", true),
    identify("vip_customers", "barbara", "barbara@example.com", true)
  ])
  await send([identify("first_time_shopper", "edsger", "edsger@example.com", false)])

  const sync = await fetch(`${worker}/admin/sync`, { method: "POST", headers: { authorization: `Bearer ${adminToken}` } })
  console.log(`POST /admin/sync → ${sync.status}`)
  console.log(await sync.text())

  const token = (await (await fetch(`${marketo}/identity/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: clientSecret })
  })).json()) as { access_token: string }
  const get = async (path: string) =>
    (await (await fetch(`${marketo}${path}`, { headers: { authorization: `Bearer ${token.access_token}` } })).json()) as { result?: Array<Record<string, unknown>> }
  for (const name of ["first_time_shopper", "vip_customers"]) {
    const list = (await get(`/rest/asset/v1/staticList/byName.json?name=${encodeURIComponent(name)}`)).result?.[0]
    if (list === undefined) {
      console.log(`list "${name}": not found in Marketo`)
      continue
    }
    const members = (await get(`/rest/v1/lists/${String(list["id"])}/leads.json?fields=id,email,firstName,lastName&batchSize=300`)).result ?? []
    console.log(`list "${name}" (id ${String(list["id"])}): ${members.length} members`)
    for (const m of [...members].sort((a, b) => String(a["email"]).localeCompare(String(b["email"])))) {
      const name = [m["firstName"], m["lastName"]].filter((part) => typeof part === "string" && part !== "").join(" ")
      console.log(`  ${String(m["email"]).padEnd(32)} ${name === "" ? "(no name)" : name}`)
    }
  }
}

main().catch((error) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)} — is \`npm start\` running?`)
  process.exit(1)
})
