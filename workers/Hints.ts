// What a person can do about an error, for the status page, the admin status and the logs.
/** By Marketo code or error kind. */
export const hintFor = (error: { readonly tag: string; readonly code: string }): string => {
  switch (error.code) {
    case "603":
      return "The API user's role lacks permissions: give it Access API and Lead Database (Read-Write)."
    case "607":
    case "quota":
      return "Marketo's daily API quota is spent; syncing resumes at midnight US Central time."
    case "709":
      return "A list with this name exists outside the folder: rename or move it in Marketo, or set a display name for the audience."
    case "710":
    case "711":
      return "The folder is missing or of the wrong type: create it under Lead Database → Group Lists, or fix MARKETO_FOLDER."
    case "external-list":
      return "The sender named a list (external_audience_id) that is not in the folder, so it stays untouched: move the list into the folder if it belongs to this audience, or remove the audience and send its events without external_audience_id."
    // Lead partitions (MARKETO_PARTITION).
    case "1008":
      return "Marketo refused the lead partition: set MARKETO_PARTITION to a partition the API user's role may write (Admin → Workspaces & Partitions)."
    case "1009":
      return "This Marketo instance has lead partitions: set MARKETO_PARTITION to the partition new leads belong to."
    case "quarantined":
      return "These changes wait in the quarantine: fix the cause the message names, then press Retry (POST /admin/quarantine/retry)."
    case "fold":
      return "Folding this audience's changes failed; every tick tries again, and after 5 minutes they move to the quarantine."
    case "invalid_client":
      return "Marketo refused the credentials: fix MARKETO_CLIENT_ID and MARKETO_CLIENT_SECRET (wrangler secret put)."
    default:
      if (error.tag === "StateStoreFailure") return "The state store refused a read or a write for this audience: see the message; the other audiences go on."
      if (error.tag === "StepDefect" || error.tag === "Defect") return "A bug stopped this audience (the message says where); the other audiences go on. Please report it."
      return error.tag === "MarketoTransient" || error.tag === "MarketoRateLimited"
        ? "Passing: the next tick retries."
        : "See the message; the next tick retries once the cause is fixed."
  }
}
