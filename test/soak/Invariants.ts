// The soak's invariants, as pure functions of what it sent and what the sandbox recorded.
import type { CallRecord } from "../sandbox/SandboxModel.js"

export interface ListMismatch {
  readonly list: string
  readonly missing: ReadonlyArray<string>
  readonly extra: ReadonlyArray<string>
}

/** Each list equals its desired emails exactly (case-insensitive); an empty audience may have no list. */
export const listMismatches = (
  desired: ReadonlyMap<string, ReadonlySet<string>>,
  lists: ReadonlyArray<{ readonly name: string; readonly members: ReadonlyArray<string> }>
): Array<ListMismatch> => {
  const mismatches: Array<ListMismatch> = []
  for (const [name, want] of desired) {
    const found = lists.filter((l) => l.name.toLowerCase() === name.toLowerCase())
    if (found.length > 1) mismatches.push({ list: name, missing: [], extra: [`${found.length} lists of this name`] })
    const have = new Set((found[0]?.members ?? []).map((e) => e.toLowerCase()))
    const missing = [...want].filter((e) => !have.has(e)).sort()
    const extra = [...have].filter((e) => !want.has(e)).sort()
    if (missing.length > 0 || extra.length > 0) mismatches.push({ list: name, missing, extra })
  }
  return mismatches
}

const isIdentity = (c: CallRecord) => c.path.startsWith("/identity/")

/** 606 and 615 the sandbox answered on its own (limits really exceeded), not from a fault rule. */
export const ownRefusals = (log: ReadonlyArray<CallRecord>) => {
  const own = log.filter((c) => !c.injected && (c.outcome === "606" || c.outcome === "615"))
  return { own606: own.filter((c) => c.outcome === "606").length, own615: own.filter((c) => c.outcome === "615").length }
}

/** The most REST calls (every outcome, identity excluded) that started in any rolling window. */
export const maxCallsInWindow = (
  log: ReadonlyArray<CallRecord>,
  windowMillis: number
): { readonly max: number; readonly at: number; readonly calls: ReadonlyArray<CallRecord> } => {
  const calls = log.filter((c) => !isIdentity(c)).sort((a, b) => a.at - b.at)
  let best = { max: 0, at: 0, first: 0 }
  let start = 0
  for (let end = 0; end < calls.length; end++) {
    while (calls[end]!.at - calls[start]!.at >= windowMillis) start++
    if (end - start + 1 > best.max) best = { max: end - start + 1, at: calls[start]!.at, first: start }
  }
  return { max: best.max, at: best.at, calls: calls.slice(best.first, best.first + best.max) }
}

/**
 * Calls that carried a token after a call with that token had been answered 601 or 602 (the worker
 * then knew the token was bad). `discoveredAt` is when that first answer left the sandbox.
 */
export const callsBeyondDiscovery = (log: ReadonlyArray<CallRecord>, discoveredAt: ReadonlyMap<number, number>) =>
  log.filter((c) => c.token !== undefined && discoveredAt.has(c.token) && c.at > discoveredAt.get(c.token)!)
