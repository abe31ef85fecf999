// Folders and static lists: the folder lookup and the lists' create, find, browse and delete in
// the Asset API (`/rest/asset/v1/…`), and the same lists read through the Lead Database
// (`/rest/v1/lists…`), each API with its own shape of a list.
import type { Answers } from "./Answers.js"
import { iso, json } from "./Answers.js"
import { upsertLead } from "./Leads.js"
import { pageOffset, pageSize } from "./Paging.js"
import type { List, SandboxState } from "./SandboxState.js"

/** `GET /rest/asset/v1/folder/byName.json?name=&type=`: every folder of the name, type compared case-insensitively. */
export const folderByName = (s: SandboxState, answers: Answers, params: URLSearchParams) => {
  const type = params.get("type")?.toLowerCase()
  const found = s.config.folders.filter((f) => f.name === params.get("name") && (type === undefined || f.type.toLowerCase() === type))
  return answers.okAsset(found.map((f) => ({
    id: f.id,
    name: f.name,
    description: "",
    createdAt: "2026-01-01T00:00:00Z+0000",
    updatedAt: "2026-01-01T00:00:00Z+0000",
    url: `https://sandbox.local/#MF${f.id}A1`,
    folderId: { id: f.id, type: f.type },
    folderType: f.type === "Folder" ? "Marketing Folder" : "Marketing Program",
    parent: { id: 1, type: "Folder" },
    path: f.path,
    isArchive: false,
    isSystem: false,
    accessZoneId: 1,
    workspace: "Default"
  })))
}

/** Marketo does not document whether list names compare case-insensitively: a knob, one rule for 709 and lookups. */
export const sameName = (s: SandboxState, a: string, b: string) =>
  s.config.caseSensitiveListNames ? a === b : a.toLowerCase() === b.toLowerCase()

const assetList = (l: List) => ({
  id: l.id,
  name: l.name,
  description: "",
  createdAt: iso(l.createdAt),
  updatedAt: iso(l.updatedAt),
  folder: { id: l.folderId, type: "Folder" },
  url: `https://sandbox.local/#ST${l.id}A1`,
  computedUrl: `https://sandbox.local/#ST${l.id}A1`,
  workspace: "Default"
})

const leadDbList = (s: SandboxState, l: List) => {
  const folder = s.config.folders.find((f) => f.id === l.folderId)
  return { id: l.id, name: l.name, description: "", programName: folder?.name ?? "", workspaceName: "Default", createdAt: iso(l.createdAt), updatedAt: iso(l.updatedAt) }
}

/** A list made by control (the config's lists, tests), its members by email. */
export const addList = (s: SandboxState, name: string, folderId: number, emails: ReadonlyArray<string>, now: number): number => {
  const id = s.nextId++
  const members = new Set(emails.map((e) => upsertLead(s, e, now).id))
  s.lists.set(id, { id, name, folderId, createdAt: now, updatedAt: now, members })
  return id
}

/** `POST /rest/asset/v1/staticLists.json`: a form with `name` and `folder` as JSON. */
export const createList = (s: SandboxState, answers: Answers, form: URLSearchParams, now: number) => {
  const name = form.get("name")?.trim() ?? ""
  if (name === "") return answers.fail("701", "name cannot be blank", true)
  let folderRef: { id?: unknown; type?: unknown }
  try {
    folderRef = JSON.parse(form.get("folder") ?? "null") ?? {}
  } catch {
    return answers.fail("701", "folder cannot be blank", true)
  }
  const folder = s.config.folders.find((f) => f.id === Number(folderRef.id))
  if (folder === undefined) return answers.fail("710", "Parent folder not found", true)
  if (folder.type.toLowerCase() !== "folder") return answers.fail("711", "Incorrect folder type", true)
  if ([...s.lists.values()].some((l) => sameName(s, l.name, name))) {
    return answers.fail("709", `Static List '${name}' already exists`, true)
  }
  const id = s.nextId++
  const list: List = { id, name, folderId: folder.id, createdAt: now, updatedAt: now, members: new Set() }
  s.lists.set(id, list)
  return json(200, { success: true, errors: [], requestId: answers.requestId(), warnings: [], result: [assetList(list)] })
}

/** `GET /rest/asset/v1/staticLists.json`: by folder, with `offset` and `maxReturn` (up to 200). */
export const browseLists = (s: SandboxState, answers: Answers, params: URLSearchParams) => {
  let lists = [...s.lists.values()]
  const folder = params.get("folder")
  if (folder !== null) {
    try {
      const ref = JSON.parse(folder) as { id: number }
      lists = lists.filter((l) => l.folderId === Number(ref.id))
    } catch {
      return answers.fail("701", "folder is not valid JSON", true)
    }
  }
  const offset = Number(params.get("offset") ?? 0)
  const max = Math.min(200, Number(params.get("maxReturn") ?? 20))
  return answers.okAsset(lists.slice(offset, offset + max).map((l) => assetList(l)))
}

/** `GET /rest/asset/v1/staticList/byName.json?name=`. */
export const listsByName = (s: SandboxState, answers: Answers, params: URLSearchParams) =>
  answers.okAsset([...s.lists.values()].filter((l) => sameName(s, l.name, params.get("name") ?? "")).map((l) => assetList(l)))

/** `GET /rest/asset/v1/staticList/{id}.json`. */
export const assetListById = (s: SandboxState, answers: Answers, id: number) => {
  const list = s.lists.get(id)
  return answers.okAsset(list === undefined ? [] : [assetList(list)])
}

/** `POST /rest/asset/v1/staticList/{id}/delete.json`. */
export const deleteList = (s: SandboxState, answers: Answers, id: number) => {
  if (!s.lists.delete(id)) return answers.fail("702", `${id} Static List not found`, true)
  return json(200, { success: true, errors: [], requestId: answers.requestId(), warnings: [], result: [{ id }] })
}

/** `GET /rest/v1/lists.json`: by `name`, `id` or `programName` (the folder's name), paged. */
export const browseLeadDbLists = (s: SandboxState, answers: Answers, params: URLSearchParams) => {
  const names = params.getAll("name").flatMap((n) => n.split(","))
  const ids = params.getAll("id").flatMap((n) => n.split(",")).map(Number)
  const programs = params.getAll("programName").flatMap((n) => n.split(","))
  const lists = [...s.lists.values()]
    .filter((l) => names.length === 0 || names.some((n) => sameName(s, l.name, n)))
    .filter((l) => ids.length === 0 || ids.includes(l.id))
    .filter((l) => programs.length === 0 || programs.includes(leadDbList(s, l).programName))
  const size = pageSize(s.config, params)
  if (size === undefined) return answers.fail("1003", `Invalid batchSize, maximum is ${s.config.batchSize}`)
  const offset = pageOffset(params)
  if (offset === undefined) return answers.fail("1003", "Invalid nextPageToken")
  const more = offset + size < lists.length
  return answers.ok(lists.slice(offset, offset + size).map((l) => leadDbList(s, l)), more ? { moreResult: true, nextPageToken: btoa(String(offset + size)) } : {})
}

/** `GET /rest/v1/lists/{id}.json`. */
export const leadDbListById = (s: SandboxState, answers: Answers, id: number) => {
  const list = s.lists.get(id)
  return list === undefined ? answers.fail("1013", "Static list not found") : answers.ok([leadDbList(s, list)])
}
