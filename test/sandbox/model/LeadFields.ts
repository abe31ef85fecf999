// Lead fields and partitions. The instance's field catalogue answers `GET /rest/v1/leads/describe2.json`
// (standard fields, `id`, `createdAt` and `updatedAt` read-only, plus the configured custom ones);
// upserts and imports store the values they carry on the lead: a value sets the field, and an empty
// one (null or "" in an upsert; an empty cell in an import unless `importBlankCellsKeep`) blanks
// it, so a client that means to keep a value must not send it empty. An unknown or read-only field
// skips an upsert record with 1006 and refuses an import with 1006. With partitions configured,
// every create names one: none answers 1009, one the API user may not write 1008.
import type { SandboxConfig } from "../SandboxConfig.js"
import type { Answers } from "./Answers.js"
import type { Lead, SandboxState } from "./SandboxState.js"

export interface SandboxField {
  readonly name: string
  readonly displayName: string
  readonly dataType: string
  readonly length?: number
  readonly updateable: boolean
}

const text = (name: string, displayName: string, length = 255): SandboxField => ({ name, displayName, dataType: "string", length, updateable: true })

export const standardFields: ReadonlyArray<SandboxField> = [
  { name: "id", displayName: "Id", dataType: "integer", updateable: false },
  { name: "email", displayName: "Email Address", dataType: "email", length: 255, updateable: true },
  text("firstName", "First Name"),
  text("lastName", "Last Name"),
  text("company", "Company Name"),
  text("title", "Job Title"),
  { name: "phone", displayName: "Phone Number", dataType: "phone", length: 255, updateable: true },
  text("city", "City"),
  text("state", "State"),
  text("country", "Country"),
  text("postalCode", "Postal Code"),
  { name: "createdAt", displayName: "Created At", dataType: "datetime", updateable: false },
  { name: "updatedAt", displayName: "Updated At", dataType: "datetime", updateable: false }
]

export const fieldCatalogue = (config: SandboxConfig): ReadonlyArray<SandboxField> => [...standardFields, ...config.customFields]

/** `GET /rest/v1/leads/describe2.json`: one "API Lead" record with every field. */
export const describeLeads = (s: SandboxState, answers: Answers) => {
  const fields = fieldCatalogue(s.config)
  return answers.ok([{
    name: "API Lead",
    searchableFields: [["email"], ["id"]],
    fields: fields.map((f) => ({
      name: f.name,
      displayName: f.displayName,
      dataType: f.dataType,
      ...(f.length === undefined ? {} : { length: f.length }),
      updateable: f.updateable,
      crmManaged: false
    }))
  }])
}

/** The first field of `names` the lead cannot take (unknown or read-only), as Marketo's reason. */
export const fieldRefusal = (config: SandboxConfig, names: ReadonlyArray<string>): { code: string; message: string } | undefined => {
  const catalogue = new Map(fieldCatalogue(config).map((f) => [f.name, f]))
  for (const name of names) {
    if (name === "email") continue
    const field = catalogue.get(name)
    if (field === undefined) return { code: "1006", message: `Field '${name}' not found` }
    if (!field.updateable) return { code: "1006", message: `Field '${name}' is not updateable` }
  }
  return undefined
}

/** Store the values on the lead: text sets the field, an empty value blanks it. */
export const applyFields = (lead: Lead, values: Readonly<Record<string, unknown>>) => {
  for (const [name, value] of Object.entries(values)) {
    if (name === "email") continue
    const text = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value)
    if (text === "") lead.fields.delete(name)
    else lead.fields.set(name, text)
  }
}

/** Why a create in `partition` is refused on this instance (1009 none named, 1008 not writable). */
export const partitionRefusal = (config: SandboxConfig, partition: unknown): { code: string; message: string } | undefined => {
  if (config.partitions.length === 0) return undefined
  if (typeof partition !== "string" || partition === "") return { code: "1009", message: "Lead partition name must be specified" }
  if (!config.partitions.includes(partition)) return { code: "1008", message: `Access denied to lead partition '${partition}'` }
  return undefined
}
