// Checks recorded Marketo exchanges against Adobe's official OpenAPI (Swagger 2.0) files with a
// JSON Schema validator (ajv): each request's path, method and parameters, and each successful
// JSON answer against the operation's response schema. The points where the files and Marketo's
// documented behaviour differ are listed in docs/marketo.md and excepted here by name.
import Ajv from "ajv"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { SandboxRequest, SandboxResponse } from "../sandbox/SandboxModel.js"

export const openApiFolder = fileURLToPath(new URL("../../../shared/marketo-openapi/", import.meta.url))
export const openApiPresent = existsSync(`${openApiFolder}swagger-mapi.json`)

interface Parameter {
  readonly name: string
  readonly in: "query" | "path" | "body" | "formData" | "header"
  readonly required?: boolean
  readonly type?: string
  readonly enum?: ReadonlyArray<string>
  readonly schema?: unknown
}
interface Operation {
  readonly parameters?: ReadonlyArray<Parameter>
  readonly responses: Record<string, { readonly schema?: unknown }>
}
interface Spec {
  readonly paths: Record<string, Record<string, Operation>>
  readonly definitions: Record<string, unknown>
}

/** Differences between the files and Marketo's documented behaviour that the sandbox follows. */
export const documentedDifferences = {
  /** Marketo accepts `POST …?_method=GET` with a form body for long lookups; the files list GET only. */
  methodOverride: "_method=GET",
  /** The files put identity parameters in the query; Marketo also accepts them as a form body (kept out of URLs and logs). */
  identityFormBody: "identity form body",
  /** Failed envelopes carry `errors` and no `result`; the files mark `result` required. Checked against the Error schema instead. */
  failureEnvelope: "failure envelope",
  /** Bulk import failures/warnings answer text/csv; the files describe a string. */
  csvAnswers: "text/csv",
  /** Asset API "nothing found" answers carry a warning and no `result`. */
  assetNothingFound: "No assets found"
} as const

export const makeContract = () => {
  const load = (file: string) => JSON.parse(readFileSync(`${openApiFolder}${file}`, "utf8")) as Spec
  const specs = { identity: load("swagger-identity.json"), mapi: load("swagger-mapi.json"), asset: load("swagger-asset.json") }
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false })
  for (const [name, spec] of Object.entries(specs)) ajv.addSchema({ definitions: spec.definitions }, name)

  const rewriteRefs = (schema: unknown, specName: string): unknown =>
    JSON.parse(JSON.stringify(schema ?? {}).replace(/"#\/definitions\//g, `"${specName}#/definitions/`))

  const find = (path: string, method: string) => {
    const specName = path.startsWith("/identity/") ? "identity" : path.startsWith("/rest/asset/") ? "asset" : "mapi"
    const spec = specs[specName]
    // Literal paths before templated ones: /staticList/byName.json is not /staticList/{id}.json.
    const templates = Object.entries(spec.paths).sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
    for (const [template, operations] of templates) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+").replace(/\./g, "\\.")}$`)
      if (pattern.test(path) && operations[method.toLowerCase()] !== undefined) return { specName, operation: operations[method.toLowerCase()]!, template }
    }
    return undefined
  }

  /** Problems with one exchange; empty when it conforms. */
  const check = (request: SandboxRequest, response: SandboxResponse): Array<string> => {
    const url = new URL(request.url, "http://marketo.local")
    const problems: Array<string> = []
    const text = new TextDecoder().decode(request.body)
    const contentType = request.headers["content-type"] ?? ""
    const params = new URLSearchParams(url.search)
    let method = request.method
    if (method === "POST" && params.get("_method") === "GET") method = "GET" // documentedDifferences.methodOverride
    if (contentType.includes("x-www-form-urlencoded")) for (const [k, v] of new URLSearchParams(text)) params.append(k, v)
    if (contentType.includes("multipart/form-data")) for (const m of text.matchAll(/Content-Disposition: form-data; name="([^"]+)"/gi)) params.append(m[1]!, "(part)")
    const found = find(url.pathname, method)
    if (found === undefined) return [`${request.method} ${url.pathname}: no such operation in the OpenAPI files`]
    const where = `${request.method} ${found.template}`
    for (const p of found.operation.parameters ?? []) {
      if (p.in === "query" || p.in === "formData") {
        const value = params.get(p.name)
        if (p.required === true && value === null) problems.push(`${where}: required parameter ${p.name} missing`)
        if (value !== null && p.type === "integer" && !/^-?\d+$/.test(value)) problems.push(`${where}: ${p.name}=${value} is not an integer`)
        if (value !== null && p.enum !== undefined && !p.enum.includes(value)) problems.push(`${where}: ${p.name}=${value} not in ${p.enum.join("|")}`)
      }
      if (p.in === "body" && contentType.includes("json") && text !== "") {
        const validate = ajv.compile(rewriteRefs(p.schema, found.specName) as object)
        if (!validate(JSON.parse(text))) problems.push(`${where}: request body: ${ajv.errorsText(validate.errors)}`)
      }
    }
    if (response.status !== 200 || !(response.headers["content-type"] ?? "").includes("json")) return problems // documentedDifferences.csvAnswers
    const body = JSON.parse(response.body) as { success?: boolean; errors?: unknown; warnings?: ReadonlyArray<string>; result?: unknown }
    if (found.specName === "identity") {
      const validate = ajv.compile(rewriteRefs(found.operation.responses["200"]?.schema, "identity") as object)
      if (!validate(body)) problems.push(`${where}: answer: ${ajv.errorsText(validate.errors)}`)
      return problems
    }
    if (body.success === false) {
      const validate = ajv.compile({ type: "array", minItems: 1, items: { $ref: `${found.specName}#/definitions/Error` } })
      if (!validate(body.errors)) problems.push(`${where}: errors: ${ajv.errorsText(validate.errors)}`) // documentedDifferences.failureEnvelope
      return problems
    }
    if (body.result === undefined && body.warnings?.some((w) => w.startsWith("No assets found"))) return problems // documentedDifferences.assetNothingFound
    const validate = ajv.compile(rewriteRefs(found.operation.responses["200"]?.schema, found.specName) as object)
    if (!validate(body)) problems.push(`${where}: answer: ${ajv.errorsText(validate.errors)}`)
    return problems
  }
  return { check }
}
