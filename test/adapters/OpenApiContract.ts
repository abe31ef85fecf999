// Checks recorded Marketo exchanges against Adobe's official OpenAPI (Swagger 2.0) files with a
// JSON Schema validator (ajv): each request's operation, path, query, form and JSON body
// parameters, and each JSON answer against the operation's response schema (or, for a failed
// envelope, against the files' Error definition). The files hold no draft-04-only keywords
// (no boolean exclusiveMinimum/Maximum, no `id`), so ajv's default draft validates them as written.
//
// Where the files and Marketo's documented behaviour differ, the check skips exactly that point,
// by name (`Difference`), and counts each skip, so a test can show that every exception is used
// and nothing else is skipped. docs/marketo.md lists each with its reason.
import Ajv, { type ValidateFunction } from "ajv"
import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import type { SandboxRequest, SandboxResponse } from "../sandbox/SandboxModel.js"

/** `../shared/marketo-openapi/` from the repository root, or MARKETO_OPENAPI_DIR (a checkout elsewhere, e.g. a git worktree). */
export const openApiFolder = process.env["MARKETO_OPENAPI_DIR"] === undefined
  ? fileURLToPath(new URL("../../../shared/marketo-openapi/", import.meta.url))
  : `${process.env["MARKETO_OPENAPI_DIR"].replace(/\/+$/, "")}/`
export const openApiPresent = ["swagger-identity.json", "swagger-mapi.json", "swagger-asset.json"].every((f) => existsSync(`${openApiFolder}${f}`))

/** Each point where the files and Marketo's documented behaviour differ (docs/marketo.md). */
export const differences = {
  methodOverride: "a lead lookup sent as POST …?_method=GET with a form body is checked as the GET operation, its form fields as query parameters",
  identityFormBody: "identity parameters sent in a form-encoded POST body count as the query parameters the files declare",
  identityRefusal: "identity's HTTP 401 invalid_client answer is not described by the files",
  removeByQueryIds: "list removal sends ids as `id` query parameters; the files also mark the JSON body required",
  failureEnvelope: "a failed envelope (success:false) has no `result`; its `errors` are checked against the files' Error definition",
  assetNothingFound: "an Asset API search that finds nothing answers a warning and no `result`",
  csvAnswers: "import failures and warnings answer text/csv, not the JSON the files declare",
  edgeFailures: "HTTP 5xx from the edge and dropped connections are not described by the files"
} as const
export type Difference = keyof typeof differences

interface Parameter {
  readonly name: string
  readonly in: "query" | "path" | "body" | "formData" | "header"
  readonly required?: boolean
  readonly type?: string
  readonly enum?: ReadonlyArray<string>
  readonly schema?: unknown
  readonly items?: { readonly type?: string; readonly enum?: ReadonlyArray<string> }
}
interface Operation {
  readonly parameters?: ReadonlyArray<Parameter>
  readonly responses: Record<string, { readonly schema?: unknown }>
}
interface Spec {
  readonly paths: Record<string, Record<string, Operation>>
  readonly definitions: Record<string, { readonly properties?: Record<string, { readonly $ref?: string; readonly type?: string }> }>
}
type SpecName = "identity" | "mapi" | "asset"

export const makeContract = () => {
  const load = (file: string) => JSON.parse(readFileSync(`${openApiFolder}${file}`, "utf8")) as Spec
  const specs: Record<SpecName, Spec> = { identity: load("swagger-identity.json"), mapi: load("swagger-mapi.json"), asset: load("swagger-asset.json") }
  // Formats are not checked: the files use names ("string", "float") that are not JSON Schema formats.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false })
  for (const [name, spec] of Object.entries(specs)) ajv.addSchema({ definitions: spec.definitions }, name)
  const used = new Map<Difference, number>()
  const except = (difference: Difference) => void used.set(difference, (used.get(difference) ?? 0) + 1)

  const compiled = new Map<string, ValidateFunction>()
  const validator = (schema: unknown, specName: SpecName) => {
    const text = JSON.stringify(schema ?? {}).replace(/"#\/definitions\//g, `"${specName}#/definitions/`)
    let v = compiled.get(text)
    if (v === undefined) compiled.set(text, (v = ajv.compile(JSON.parse(text) as object)))
    return v
  }
  const validate = (schema: unknown, specName: SpecName, value: unknown, what: string): Array<string> => {
    const v = validator(schema, specName)
    return v(value) ? [] : [`${what}: ${ajv.errorsText(v.errors)}`]
  }

  // Literal paths before templated ones: /staticList/byName.json is not /staticList/{id}.json.
  const sortedPaths = (spec: Spec) =>
    Object.entries(spec.paths).sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
  const find = (path: string, method: string) => {
    const specName: SpecName = path.startsWith("/identity/") ? "identity" : path.startsWith("/rest/asset/") ? "asset" : "mapi"
    for (const [template, operations] of sortedPaths(specs[specName])) {
      const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)
      const pattern = new RegExp(`^${template.replace(/\./g, "\\.").replace(/\{[^}]+\}/g, "([^/]+)")}$`)
      const match = pattern.exec(path)
      const operation = operations[method.toLowerCase()]
      if (match !== null && operation !== undefined) {
        const pathParams = new Map(names.map((n, i) => [n, decodeURIComponent(match[i + 1]!)] as const))
        return { specName, operation, template, pathParams }
      }
    }
    return undefined
  }

  /** A form-encoded body read as the object its body schema describes (object fields are JSON). */
  const formAsObject = (form: URLSearchParams, schema: unknown, specName: SpecName) => {
    const ref = (schema as { $ref?: string }).$ref
    const definition = ref === undefined ? (schema as Spec["definitions"][string]) : specs[specName].definitions[ref.split("/").pop()!]
    const object: Record<string, unknown> = {}
    for (const [k, v] of form) {
      const property = definition?.properties?.[k]
      const isObject = property?.$ref !== undefined || property?.type === "object" || property?.type === "array"
      try {
        object[k] = isObject ? JSON.parse(v) : v
      } catch {
        object[k] = v
      }
    }
    return object
  }

  const checkValue = (where: string, p: Parameter, value: string | undefined): Array<string> => {
    if (value === undefined) return []
    if (p.type === "integer" && !/^-?\d+$/.test(value)) return [`${where}: ${p.name}=${value} is not an integer`]
    if (p.enum !== undefined && !p.enum.includes(value)) return [`${where}: ${p.name}=${value} not in ${p.enum.join("|")}`]
    return []
  }

  /** Problems with one exchange; empty when it conforms. */
  const check = (request: SandboxRequest, response: SandboxResponse): Array<string> => {
    const url = new URL(request.url, "http://marketo.local")
    const problems: Array<string> = []
    const text = new TextDecoder().decode(request.body)
    const contentType = request.headers["content-type"] ?? ""
    const query = new URLSearchParams(url.search)
    const form = contentType.includes("x-www-form-urlencoded") ? new URLSearchParams(text) : new URLSearchParams()
    const parts = contentType.includes("multipart/form-data")
      ? new Set([...text.matchAll(/Content-Disposition: form-data; name="([^"]+)"/gi)].map((m) => m[1]!))
      : new Set<string>()

    let method = request.method
    if (method === "POST" && query.get("_method") === "GET") {
      except("methodOverride")
      method = "GET"
      query.delete("_method")
      for (const [k, v] of form) query.append(k, v)
    }
    const found = find(url.pathname, method)
    if (found === undefined) return [`${request.method} ${url.pathname}: no such operation in the OpenAPI files`]
    const where = `${request.method} ${found.template}`
    if (found.specName === "identity" && form.size > 0) {
      except("identityFormBody")
      for (const [k, v] of form) query.append(k, v)
    }

    for (const p of found.operation.parameters ?? []) {
      if (p.in === "path") {
        const value = found.pathParams.get(p.name)
        if (value === undefined) problems.push(`${where}: path parameter ${p.name} missing`)
        problems.push(...checkValue(where, p, value))
      } else if (p.in === "query") {
        const values = query.getAll(p.name)
        if (p.required === true && values.length === 0) problems.push(`${where}: required query parameter ${p.name} missing`)
        // Arrays arrive comma-separated or as repeated parameters; each item is checked.
        for (const v of values) {
          if (p.type === "array") for (const item of v.split(",")) problems.push(...checkValue(where, { name: p.name, in: "query", ...p.items }, item))
          else problems.push(...checkValue(where, p, v))
        }
      } else if (p.in === "formData") {
        if (p.type === "file") {
          if (p.required === true && !parts.has(p.name)) problems.push(`${where}: required file part ${p.name} missing`)
        } else {
          const value = form.get(p.name) ?? undefined
          if (p.required === true && value === undefined) problems.push(`${where}: required form field ${p.name} missing`)
          problems.push(...checkValue(where, p, value))
        }
      } else if (p.in === "body") {
        if (contentType.includes("json") && text !== "") problems.push(...validate(p.schema, found.specName, JSON.parse(text), `${where}: request body`))
        else if (form.size > 0 && found.specName !== "identity") problems.push(...validate(p.schema, found.specName, formAsObject(form, p.schema, found.specName), `${where}: form body`))
        else if (p.required === true) {
          if (request.method === "DELETE" && query.getAll("id").length > 0) except("removeByQueryIds")
          else problems.push(`${where}: required body ${p.name} missing`)
        }
      }
    }
    if (found.specName !== "identity" && !(request.headers["authorization"] ?? "").startsWith("Bearer ")) problems.push(`${where}: no Bearer token`)
    if (query.has("access_token")) problems.push(`${where}: access_token in the query`)

    // The answer.
    if (response.drop === true || response.status >= 500) {
      except("edgeFailures")
      return problems
    }
    if (found.specName === "identity" && response.status === 401) {
      except("identityRefusal")
      return problems
    }
    const schema = found.operation.responses[String(response.status)]?.schema
    if (schema === undefined) return [...problems, `${where}: HTTP ${response.status} is not an answer the files describe`]
    if (!(response.headers["content-type"] ?? "").includes("json")) {
      if ((response.headers["content-type"] ?? "").includes("text/csv") && /\/(failures|warnings)\.json$/.test(found.template)) except("csvAnswers")
      else problems.push(`${where}: answer is ${response.headers["content-type"]}, not JSON`)
      return problems
    }
    const body = JSON.parse(response.body) as { success?: boolean; errors?: unknown; warnings?: ReadonlyArray<string>; result?: unknown }
    if (found.specName !== "identity" && body.success === false) {
      except("failureEnvelope")
      return [...problems, ...validate({ type: "array", minItems: 1, items: { $ref: "#/definitions/Error" } }, found.specName, body.errors, `${where}: errors`)]
    }
    if (found.specName === "asset" && body.result === undefined && body.warnings?.some((w) => w.startsWith("No assets found"))) {
      except("assetNothingFound")
      return problems
    }
    return [...problems, ...validate(schema, found.specName, body, `${where}: answer`)]
  }
  return { check, used: () => new Map(used) }
}
