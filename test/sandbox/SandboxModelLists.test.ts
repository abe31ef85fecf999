// The model's folders and static lists: folder lookup, list names and their case, browsing,
// reading in both APIs, and deleting.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf, folderRef } from "./SandboxTestKit.js"

describe("folders and lists", () => {
  const folders = [
    { id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" },
    { id: 2001, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Archive/Engage Audiences" },
    { id: 3001, name: "Engage Audiences", type: "Program", path: "/Marketing Activities/Engage Audiences" }
  ]

  it("finds every folder of a name, filtered by type case-insensitively, with the Asset API's empty errors and warnings", () => {
    const m = new SandboxModel({ folders })
    const { call } = caller(m)
    const all = call("GET", "/rest/asset/v1/folder/byName.json?name=Engage%20Audiences")
    expect(all.result?.map((f) => f["id"])).toEqual([1034, 2001, 3001])
    expect(all).toMatchObject({ errors: [], warnings: [] })
    expect(call("GET", "/rest/asset/v1/folder/byName.json?name=Engage%20Audiences&type=FOLDER").result?.map((f) => f["path"]))
      .toEqual(["/Lead Database/Group Lists/Engage Audiences", "/Lead Database/Archive/Engage Audiences"])
    const none = call("GET", "/rest/asset/v1/folder/byName.json?name=Nothing")
    expect(none).toEqual({ success: true, errors: [], requestId: none.requestId, warnings: ["No assets found for the given search criteria."] })
    // Failures on the Asset API carry warnings too.
    expect(call("POST", "/rest/asset/v1/staticLists.json", `name=X&folder=${folderRef(3001)}`)).toMatchObject({ success: false, errors: [{ code: "711" }], warnings: [] })
  })

  it("treats list names alike whatever their case by default, and exactly when configured", () => {
    const loose = caller(new SandboxModel())
    loose.call("POST", "/rest/asset/v1/staticLists.json", `name=Buyers&folder=${folderRef(1034)}`)
    expect(codeOf(loose.call("POST", "/rest/asset/v1/staticLists.json", `name=BUYERS&folder=${folderRef(1034)}`))).toBe("709")
    expect(loose.call("GET", "/rest/asset/v1/staticList/byName.json?name=buyers").result?.[0]?.["name"]).toBe("Buyers")
    const strict = caller(new SandboxModel({ caseSensitiveListNames: true }))
    strict.call("POST", "/rest/asset/v1/staticLists.json", `name=Buyers&folder=${folderRef(1034)}`)
    expect(strict.call("POST", "/rest/asset/v1/staticLists.json", `name=BUYERS&folder=${folderRef(1034)}`).success).toBe(true)
    expect(strict.call("GET", "/rest/asset/v1/staticList/byName.json?name=buyers").warnings).toEqual(["No assets found for the given search criteria."])
  })

  it("browses lists by folder with offset and maxReturn, reads one by id in both APIs, and deletes", () => {
    const m = new SandboxModel({ folders, lists: [{ name: "a" }, { name: "b" }, { name: "c" }, { name: "elsewhere", folderId: 2001 }] })
    const { call } = caller(m)
    const page = (offset: number) => call("GET", `/rest/asset/v1/staticLists.json?folder=${folderRef(1034)}&offset=${offset}&maxReturn=2`)
    expect(page(0).result?.map((l) => l["name"])).toEqual(["a", "b"])
    expect(page(2).result?.map((l) => l["name"])).toEqual(["c"])
    expect(page(4).warnings).toEqual(["No assets found for the given search criteria."])
    const a = page(0).result![0]!["id"] as number
    expect(call("GET", `/rest/asset/v1/staticList/${a}.json`).result?.[0]).toMatchObject({ id: a, name: "a", folder: { id: 1034, type: "Folder" } })
    expect(call("GET", `/rest/v1/lists/${a}.json`).result?.[0]).toMatchObject({ id: a, name: "a" })
    expect(call("GET", "/rest/v1/lists.json?name=elsewhere").result?.map((l) => l["name"])).toEqual(["elsewhere"])
    // Lead Database browsing pages with batchSize and nextPageToken.
    const first = call("GET", "/rest/v1/lists.json?batchSize=3")
    expect([first.result?.map((l) => l["name"]), first.moreResult]).toEqual([["a", "b", "c"], true])
    const rest = call("GET", `/rest/v1/lists.json?batchSize=3&nextPageToken=${first.nextPageToken!}`)
    expect([rest.result?.map((l) => l["name"]), rest.moreResult, rest.nextPageToken]).toEqual([["elsewhere"], undefined, undefined])
    expect(codeOf(call("GET", "/rest/v1/lists.json?batchSize=301"))).toBe("1003")
    expect(call("POST", `/rest/asset/v1/staticList/${a}/delete.json`).result).toEqual([{ id: a }])
    expect(codeOf(call("GET", `/rest/v1/lists/${a}.json`))).toBe("1013")
  })
})
