// A list the sender names (`context.personas.external_audience_id`) is used only when it is in the
// configured folder: the ingest credential must not reach lists that other people and campaigns
// own. Checked with one Asset API call before the list is first used; once the audience holds the
// list id it is never asked again.
import { Effect, Option } from "effect"
import type { AudienceKey, FolderId, ListId } from "../1-events/Ids.js"
import { MarketoRejected } from "../marketo/MarketoErrors.js"
import { MarketoApi, type StaticList } from "../ports/MarketoApi.js"

/** The code of the refusal, for the status page's hint (it is ours, not Marketo's). */
export const outsideFolderCode = "external-list"

export const checkExternalList = Effect.fn("ExternalList.check")(function*(
  listId: ListId,
  folder: { readonly id: FolderId; readonly name: string },
  audience: AudienceKey
) {
  const api = yield* MarketoApi
  const found = yield* api.getStaticList(listId)
  const refuse = (why: string) =>
    Effect.fail(
      new MarketoRejected({
        code: outsideFolderCode,
        message: `external_audience_id ${listId} of audience "${audience}" ${why}: nothing is written to it. ` +
          `Move the list into folder "${folder.name}", or remove the audience and send its events without external_audience_id`
      })
    )
  if (Option.isNone(found)) return yield* refuse("names no static list in Marketo")
  const list: StaticList = found.value
  if (list.folderId !== folder.id) return yield* refuse(`names list "${list.name}", which is outside folder "${folder.name}"`)
  return list
})
