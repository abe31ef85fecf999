// A stable hash of a JSON value (keys sorted), used to give an event without a messageId an id
// that is the same on every redelivery, so duplicates are still recognised.
const canonical = (value: unknown, depth: number): string => {
  if (depth > 64) return "\"…\""
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(",")}]`
  if (typeof value === "object" && value !== null) {
    const keys = Object.keys(value).sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], depth + 1)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

/** FNV-1a, 2 × 32 bits, as 16 hex digits. */
export const canonicalHash = (value: unknown): string => {
  const text = canonical(value, 0)
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15)
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0")
}
