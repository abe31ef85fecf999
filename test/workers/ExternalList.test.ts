// A list the sender names with `context.personas.external_audience_id`, inside workerd against the
// Marketo sandbox: used when it is in the configured folder, left untouched when it is not.
import { env, SELF } from "cloudflare:test"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { base, runTick as tick, sandbox, sandboxLists, sendBatch as send } from "./WorkerKit.js"

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` }
const defaultFolder = { id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }
const triggers = { id: 2000, name: "Campaign triggers", type: "Folder", path: "/Lead Database/Group Lists/Campaign triggers" }

const listNamed = async (name: string) => (await sandboxLists()).find((l) => l.name === name)!

let n = 0
const event = (audience: string, listId: number, user: string, email: string, member = true) => ({
  type: "identify",
  userId: user,
  messageId: `ext-${++n}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + n * 1000).toISOString(),
  traits: { email, [audience]: member },
  context: { personas: { computation_key: audience, external_audience_id: listId } }
})
beforeAll(async () => {
  await sandbox("reset", {
    method: "POST",
    body: JSON.stringify({
      config: {
        folders: [defaultFolder, triggers],
        lists: [
          // A list that sends a campaign to whoever lands on it, owned by someone else.
          { name: "welcome mail trigger", folderId: triggers.id, members: ["customer@example.com"] },
          { name: "crm picked list", folderId: defaultFolder.id }
        ]
      }
    })
  })
})
afterAll(async () => {
  await sandbox("reset", { method: "POST", body: JSON.stringify({ config: { folders: [defaultFolder], lists: [] } }) })
})

describe("external_audience_id", () => {
  it("leaves a list outside the folder untouched and says why, with a hint", async () => {
    const target = await listNamed("welcome mail trigger")
    await send([
      event("ext_outside", target.id, "u1", "eve@example.com"),
      event("ext_outside", target.id, "u2", "customer@example.com"),
      event("ext_outside", target.id, "u2", "customer@example.com", false)
    ])
    await tick()
    await tick()
    expect(await listNamed("welcome mail trigger")).toEqual({ ...target, members: ["customer@example.com"] })
    // No list of the audience's own was made either: the sender asked for that one.
    expect((await sandboxLists()).map((l) => l.name).sort()).toEqual(["crm picked list", "welcome mail trigger"])

    const view = (await (await SELF.fetch(`${base}/admin/audiences/ext_outside`, { headers: admin })).json()) as {
      listId?: number
      pending: { add: number }
      lastError?: { code: string; message: string }
    }
    expect(view.listId).toBeUndefined()
    expect(view.pending.add).toBe(1)
    expect(view.lastError?.code).toBe("external-list")
    expect(view.lastError?.message).toBe(
      `external_audience_id ${target.id} of audience "ext_outside" names list "welcome mail trigger", which is outside folder "Engage Audiences": ` +
        "nothing is written to it. Move the list into folder \"Engage Audiences\", or remove the audience and send its events without external_audience_id"
    )
    // Reading the list back (after which a tick would remove whatever the audience does not know)
    // has no list to read.
    const reconcile = await SELF.fetch(`${base}/admin/audiences/ext_outside/reconcile`, { method: "POST", headers: admin })
    expect(reconcile.status).toBe(404)
    expect(await listNamed("welcome mail trigger")).toEqual({ ...target, members: ["customer@example.com"] })
    const page = await (await SELF.fetch(`${base}/`, { headers: { authorization: `Basic ${btoa(`admin:${env.ADMIN_TOKEN}`)}` } })).text()
    expect(page).toContain("The sender named a list (external_audience_id) that is not in the folder, so it stays untouched")
  })

  it("uses a list the sender names inside the folder", async () => {
    const target = await listNamed("crm picked list")
    await send([event("ext_inside", target.id, "u1", "ada@example.com"), event("ext_inside", target.id, "u2", "bob@example.com")])
    await tick()
    expect((await listNamed("crm picked list")).members).toEqual(["ada@example.com", "bob@example.com"])
    expect((await sandboxLists()).some((l) => l.name === "ext_inside")).toBe(false)
    const view = await (await SELF.fetch(`${base}/admin/audiences/ext_inside`, { headers: admin })).json()
    expect(view).toMatchObject({ listId: target.id, synced: 2 })
    expect(view).not.toHaveProperty("lastError")
  })
})
