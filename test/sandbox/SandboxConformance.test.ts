// Every endpoint of the model, successes and failures alike, validated against Adobe's OpenAPI
// files (skipping only the documented differences, docs/marketo.md), beyond what the client uses.
import { describe, expect, it } from "vitest"
import { makeContract, openApiPresent } from "../adapters/OpenApiContract.js"
import { SandboxModel, type SandboxRequest, type SandboxResponse } from "./SandboxModel.js"
import { type Envelope, folderRef, multipart, parse, tokenUrl } from "./SandboxTestKit.js"

const encoder = new TextEncoder()

describe.skipIf(!openApiPresent)("sandbox answers conform to Adobe's OpenAPI files", () => {
  it("for every endpoint, including refusals, limits and faults", () => {
    const m = new SandboxModel({ duplicateEmails: ["twin@example.com"], importQueuedMillis: 0, importRunningMillis: 10, importRunningMillisPerRow: 0, dailyQuota: 200, folders: [
      { id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" },
      { id: 3001, name: "Engage Audiences", type: "Program", path: "/Marketing Activities/Engage Audiences" }
    ] })
    const exchanges: Array<readonly [SandboxRequest, SandboxResponse]> = []
    let token = ""
    let at = 0
    const send = (method: string, url: string, body = "", contentType?: string): Envelope => {
      const request: SandboxRequest = {
        method,
        url,
        headers: { ...(token === "" ? {} : { authorization: `Bearer ${token}` }), ...(contentType === undefined ? {} : { "content-type": contentType }) },
        body: encoder.encode(body)
      }
      const response = m.handle(request, at)
      exchanges.push([request, response])
      return response.headers["content-type"]?.includes("json") === true ? parse(response) : {}
    }
    const form = (method: string, url: string, body: string) => send(method, url, body, "application/x-www-form-urlencoded")
    const json = (method: string, url: string, body: unknown) => send(method, url, JSON.stringify(body), "application/json")

    token = send("GET", tokenUrl()).access_token!
    send("GET", "/rest/asset/v1/folder/byName.json?name=Engage%20Audiences&type=Folder")
    send("GET", "/rest/asset/v1/folder/byName.json?name=Nothing")
    const list = form("POST", "/rest/asset/v1/staticLists.json", `name=L&folder=${folderRef(1034)}&description=d`).result![0]!["id"] as number
    form("POST", "/rest/asset/v1/staticLists.json", `name=L&folder=${folderRef(1034)}`)
    form("POST", "/rest/asset/v1/staticLists.json", `name=M&folder=${folderRef(9)}`)
    form("POST", "/rest/asset/v1/staticLists.json", `name=M&folder=${encodeURIComponent("{\"id\":3001,\"type\":\"Program\"}")}`)
    const other = form("POST", "/rest/asset/v1/staticLists.json", `name=Other&folder=${folderRef(1034)}`).result![0]!["id"] as number
    send("GET", "/rest/asset/v1/staticList/byName.json?name=L")
    send("GET", `/rest/asset/v1/staticList/${list}.json`)
    send("GET", `/rest/asset/v1/staticLists.json?folder=${folderRef(1034)}&offset=0&maxReturn=200`)
    form("POST", `/rest/asset/v1/staticList/${other}/delete.json`, "")
    send("GET", "/rest/v1/lists.json?name=L")
    send("GET", "/rest/v1/lists.json?batchSize=1")
    send("GET", `/rest/v1/lists/${list}.json`)
    send("GET", "/rest/v1/lists/424242.json")
    const ids = json("POST", "/rest/v1/leads.json", { action: "createOrUpdate", lookupField: "email", input: [{ email: "a@example.com" }, { email: "b@example.com" }, { email: "twin@example.com" }] })
      .result!.flatMap((r) => (typeof r["id"] === "number" ? [r["id"]] : []))
    json("POST", "/rest/v1/leads.json", { action: "createOnly", lookupField: "email", input: [{ email: "a@example.com" }] })
    json("POST", "/rest/v1/leads.json", { action: "updateOnly", lookupField: "email", input: [{ email: "nobody@example.com" }] })
    json("POST", "/rest/v1/leads.json", { action: "createOrUpdate", lookupField: "email", input: Array.from({ length: 301 }, (_, i) => ({ email: `${i}@example.com` })) })
    send("GET", "/rest/v1/leads.json?filterType=email&filterValues=a@example.com,twin@example.com&fields=id,email&batchSize=300")
    form("POST", "/rest/v1/leads.json?_method=GET", "filterType=email&filterValues=b@example.com&fields=id,email")
    json("POST", `/rest/v1/lists/${list}/leads.json`, { input: [...ids, 424242].map((id) => ({ id })) })
    json("POST", "/rest/v1/lists/424242/leads.json", { input: [{ id: ids[0] }] })
    send("GET", `/rest/v1/lists/${list}/leads/ismember.json?id=${ids[0]}&id=424242`)
    send("GET", `/rest/v1/lists/${list}/leads.json?batchSize=1&fields=id,email`)
    send("DELETE", `/rest/v1/lists/${list}/leads.json?id=${ids[0]}&id=${ids[0]}&id=424242`)
    const file = multipart("email\r\nc@example.com\r\nnot-an-email\r\n")
    const batch = send("POST", `/bulk/v1/leads.json?format=csv&lookupField=email&listId=${list}`, file.body, file.contentType).result![0]!["batchId"] as number
    send("POST", `/bulk/v1/leads.json?format=csv&lookupField=email&listId=${list}`, file.body, file.contentType)
    send("GET", `/bulk/v1/leads/batch/${batch}.json`)
    at = 20
    send("GET", `/bulk/v1/leads/batch/${batch}.json`)
    send("GET", `/bulk/v1/leads/batch/${batch}/warnings.json`)
    send("GET", `/bulk/v1/leads/batch/${batch}/failures.json`)
    send("GET", "/rest/v1/stats/usage.json")
    m.setFaults([{ kind: "604", count: 1 }, { kind: "608", count: 1 }, { kind: "611", count: 1 }, { kind: "615", count: 1 }])
    for (let i = 0; i < 4; i++) send("GET", "/rest/v1/lists.json?name=L")
    while (exchanges.length < 130) send("GET", "/rest/v1/lists.json?name=L")
    expect(codeOfLast(exchanges)).toBe("606")
    const saved = token
    token = "forged"
    send("GET", "/rest/v1/lists.json?name=L")
    token = saved
    at = 3_600_000
    send("GET", "/rest/v1/lists.json?name=L")

    const contract = makeContract()
    expect(exchanges.flatMap(([request, response]) => contract.check(request, response))).toEqual([])
  })
})

const codeOfLast = (exchanges: ReadonlyArray<readonly [SandboxRequest, SandboxResponse]>) => parse(exchanges[exchanges.length - 1]![1]).errors?.[0]?.code
