// The lead field settings: which traits become which Marketo lead fields (MARKETO_LEAD_FIELDS),
// whether changed values of members already on a list are sent (MARKETO_LEAD_FIELDS_UPDATE), and
// the lead partition new leads go to (MARKETO_PARTITION). Read with effect's Config like every
// other setting (workers/Settings.ts), so a wrong one is named by its setting.
import { Config, ConfigError, Either, Option, Schema } from "effect"
import { type LeadFieldMapping, parseLeadFieldMapping } from "../core/1-events/LeadFields.js"
import { defaults } from "./Defaults.js"

export interface LeadFieldSettings {
  readonly mapping: LeadFieldMapping
  /** "on-add": values go with the adds; "always": changed values of members on a list are sent too. */
  readonly update: "on-add" | "always"
  /** `partitionName` on upserts and imports, for instances with lead partitions. */
  readonly partition?: string
}

export const leadFieldsConfig: Config.Config<LeadFieldMapping> = Config.withDefault(
  Config.string("MARKETO_LEAD_FIELDS").pipe(
    Config.mapOrFail((text) => Either.mapLeft(parseLeadFieldMapping(text), (problem) => ConfigError.InvalidData([], `is invalid: ${problem}`)))
  ),
  Either.getOrThrow(parseLeadFieldMapping(defaults.leadFields))
)

export const leadFieldsUpdateConfig: Config.Config<"on-add" | "always"> = Config.withDefault(
  Schema.Config("MARKETO_LEAD_FIELDS_UPDATE", Schema.Literal("on-add", "always").annotations({
    message: () => ({ message: "must be on-add (values go with the adds) or always (changed values are sent too)", override: true })
  })),
  defaults.leadFieldsUpdate
)

export const partitionConfig: Config.Config<Option.Option<string>> = Config.option(
  Schema.Config("MARKETO_PARTITION", Schema.String.pipe(Schema.maxLength(255)).annotations({
    message: () => ({ message: "must be at most 255 characters (a Marketo lead partition name)", override: true })
  }))
)

/** Reads the three settings with the caller's reader (which lists every problem by name). */
export const readLeadFieldSettings = (read: <A>(name: string, config: Config.Config<A>) => A | undefined): LeadFieldSettings | undefined => {
  const mapping = read("MARKETO_LEAD_FIELDS", leadFieldsConfig)
  const update = read("MARKETO_LEAD_FIELDS_UPDATE", leadFieldsUpdateConfig)
  const partition = read("MARKETO_PARTITION", partitionConfig)
  if (mapping === undefined || update === undefined || partition === undefined) return undefined
  return { mapping, update, ...(Option.isSome(partition) ? { partition: partition.value } : {}) }
}
