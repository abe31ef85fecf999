// Small helpers for driving the model directly in tests.
import { SandboxModel } from "./SandboxModel.js"

export interface Envelope {
  readonly requestId?: string
  readonly success?: boolean
  readonly errors?: Array<{ code: string; message: string }>
  readonly warnings?: Array<string>
  readonly result?: Array<Record<string, unknown>>
  readonly moreResult?: boolean
  readonly nextPageToken?: string
  readonly access_token?: string
  readonly expires_in?: number
}

export const parse = (r: { body: string }) => JSON.parse(r.body) as Envelope
export const codeOf = (r: Envelope) => r.errors?.[0]?.code
export const folderRef = (id: number) => encodeURIComponent(JSON.stringify({ id, type: "Folder" }))
export const tokenUrl = (id = "local-client-id", secret = "local-client-secret") =>
  `/identity/oauth/token?grant_type=client_credentials&client_id=${id}&client_secret=${secret}`

/** A caller with a token: `call(method, url, body?, at?)`; bodies that are strings go as forms. */
export const caller = (m: SandboxModel, now = 0) => {
  let token = parse(m.handle({ method: "GET", url: tokenUrl(), headers: {}, body: "" }, now)).access_token!
  const raw = (method: string, url: string, body?: unknown, at = now, headers: Record<string, string> = {}) =>
    m.handle({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": typeof body === "string" ? "application/x-www-form-urlencoded" : "application/json",
        ...headers
      },
      body: body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body)
    }, at)
  const call = (method: string, url: string, body?: unknown, at = now) => parse(raw(method, url, body, at))
  const renew = (at = now) => {
    token = parse(m.handle({ method: "GET", url: tokenUrl(), headers: {}, body: "" }, at)).access_token!
  }
  return { call, raw, renew, token: () => token }
}

export const multipart = (csv: string, boundary = "XyZ") => ({
  contentType: `multipart/form-data; boundary=${boundary}`,
  body: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="leads.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`
})

export const newModel = (...args: ConstructorParameters<typeof SandboxModel>) => new SandboxModel(...args)

/** Starts a bulk import of `csv` (into `listId`, if given) with the token, at `at`. */
export const importInto = (m: SandboxModel, token: string, csv: string, at: number, listId?: number) => {
  const { contentType, body } = multipart(csv)
  return parse(m.handle({
    method: "POST",
    url: `/bulk/v1/leads.json?format=csv&lookupField=email${listId === undefined ? "" : `&listId=${listId}`}`,
    headers: { authorization: `Bearer ${token}`, "content-type": contentType },
    body
  }, at))
}
