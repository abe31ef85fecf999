// Users paste the REST endpoint as Marketo's admin page shows it (with `/rest`) or without, with or
// without a trailing slash. The client wants the bare origin.
import { Either } from "effect"

export const normalizeEndpoint = (raw: string): Either.Either<string, string> => {
  const trimmed = raw.trim()
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return Either.left(`MARKETO_ENDPOINT "${trimmed.slice(0, 100)}" is not a URL (expected e.g. https://123-ABC-456.mktorest.com/rest)`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return Either.left(`MARKETO_ENDPOINT must start with https:// (or http:// for a local sandbox), not ${url.protocol}//`)
  }
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    return Either.left("MARKETO_ENDPOINT must be the bare REST endpoint, without credentials, query or fragment")
  }
  const path = url.pathname.replace(/\/+$/, "")
  if (path !== "" && path.toLowerCase() !== "/rest") {
    return Either.left(`MARKETO_ENDPOINT path "${url.pathname}" is not the REST endpoint (expected nothing or /rest)`)
  }
  return Either.right(url.origin)
}

/** One name per Marketo instance, however its URL is written: what its records are kept under. */
export const instanceName = (endpoint: string): string => {
  const url = new URL(endpoint)
  return `${url.protocol}//${url.host}`.toLowerCase()
}
