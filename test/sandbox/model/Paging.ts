// Paging as the Lead Database does it: `batchSize` up to the configured 300, and an opaque
// `nextPageToken` that here carries an offset (lookups, lists) or the last id answered (members).
import type { SandboxConfig } from "../SandboxConfig.js"

export const pageSize = (config: SandboxConfig, params: URLSearchParams): number | undefined => {
  const size = Number(params.get("batchSize") ?? config.batchSize)
  return Number.isInteger(size) && size >= 1 && size <= config.batchSize ? size : undefined
}

/** Paging tokens are opaque to clients; here they carry an offset (lookups) or the last id (`m…`, members). */
export const pageOffset = (params: URLSearchParams): number | undefined => {
  const token = params.get("nextPageToken")
  if (token === null) return 0
  try {
    const offset = Number(atob(token).replace(/^m/, ""))
    return Number.isInteger(offset) && offset >= 0 ? offset : undefined
  } catch {
    return undefined
  }
}

/** Index of the first id above `after` in ascending `ids`. */
export const firstAbove = (ids: ReadonlyArray<number>, after: number) => {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid]! <= after) lo = mid + 1
    else hi = mid
  }
  return lo
}
