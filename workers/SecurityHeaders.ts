// Headers on every answer: no page may frame the worker's (clickjacking), browsers must not guess
// a content type, and no Referer leaves the status page. The status page's own policy allows only
// its inline style (by hash) and forms posting back to the worker; every other answer allows nothing.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'"

/** The status page's policy: no script at all, its one inline style by hash, forms to itself only. */
export const pagePolicy = async (style: string): Promise<string> => {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(style)))
  const hash = btoa(String.fromCharCode(...digest))
  return `default-src 'none'; style-src 'sha256-${hash}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`
}

export const withSecurityHeaders = (response: Response): Response => {
  const headers = response.headers
  if (!headers.has("content-security-policy")) headers.set("content-security-policy", apiPolicy)
  headers.set("x-content-type-options", "nosniff")
  headers.set("referrer-policy", "no-referrer")
  // For browsers older than frame-ancestors.
  headers.set("x-frame-options", "DENY")
  return response
}
