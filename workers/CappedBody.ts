// Reading a request body with a byte cap: a body past the cap is never held whole.

/** Larger than Segment's 500 KB batches, small enough to decode well inside a Worker's 128 MB. */
export const maxBodyBytes = 4 * 1024 * 1024

/** The body, or undefined as soon as it passes `cap` bytes (the rest is never read). */
export const readCapped = async (request: Request, cap = maxBodyBytes): Promise<ArrayBuffer | undefined> => {
  const length = Number(request.headers.get("content-length") ?? "0")
  if (length > cap) return undefined
  if (request.body === null) return new ArrayBuffer(0)
  const reader = request.body.getReader()
  const chunks: Array<Uint8Array> = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > cap) {
      await reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body.buffer
}
