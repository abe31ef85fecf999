import { env, SELF } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import { hmacSha1Hex } from "../../workers/Auth.js"
import { maxBodyBytes } from "../../workers/CappedBody.js"
import worker from "../../workers/index.js"

const base = "https://worker.test"
const event = (user: string, email: string, member = true) => ({
  type: "identify",
  userId: user,
  messageId: `${user}-${email}-${member}`,
  timestamp: "2026-11-20T10:00:00Z",
  traits: { email, vip: member },
  context: { personas: { computation_key: "vip", computation_class: "audience" } }
})
const basic = (user: string, password = "") => `Basic ${btoa(`${user}:${password}`)}`
const post = (path: string, body: string, headers: Record<string, string>) =>
  SELF.fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } })
const sign = async (body: string, secret = env.INGEST_SECRET) => hmacSha1Hex(secret, new TextEncoder().encode(body).buffer as ArrayBuffer)

describe("ingest", () => {
  it("accepts a Segment batch with the write key as Basic user name, and names rejected events", async () => {
    const body = JSON.stringify({ batch: [event("u1", "ada@example.com"), { ...event("u2", "bad"), traits: { vip: "yes" } }] })
    const response = await post("/v1/batch", body, { authorization: basic(env.INGEST_TOKEN) })
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ accepted: 1, rejected: [{ index: 1, reason: "membership traits.vip must be a boolean, got \"yes\"" }] })
  })

  it("accepts /v1/identify and /v1/track without a type in the body, with Bearer", async () => {
    const { type: _t, ...identify } = event("u1", "ada@example.com")
    expect((await post("/v1/identify", JSON.stringify(identify), { authorization: `Bearer ${env.INGEST_TOKEN}` })).status).toBe(200)
    const track = { event: "Audience Entered", userId: "u3", messageId: "t1", properties: { vip: true }, context: { traits: { email: "t@example.com" }, personas: { computation_key: "vip" } } }
    expect((await post("/v1/track", JSON.stringify(track), { authorization: `Bearer ${env.INGEST_TOKEN}` })).status).toBe(200)
  })

  it("accepts a webhook signed with INGEST_SECRET, and refuses a signature over a different body", async () => {
    const body = JSON.stringify([event("u1", "ada@example.com")])
    expect((await post("/webhook", body, { "x-signature": await sign(body) })).status).toBe(200)
    const other = JSON.stringify([event("u1", "eve@example.com")])
    const forged = await post("/webhook", other, { "x-signature": await sign(body) })
    expect(forged.status).toBe(401)
    expect((await post("/webhook", body, { "x-signature": await sign(body, "wrong-secret") })).status).toBe(401)
  })

  it("refuses missing and wrong credentials on every ingest route", async () => {
    const body = JSON.stringify(event("u1", "ada@example.com"))
    for (const path of ["/v1/batch", "/v1/identify", "/v1/track", "/webhook"]) {
      for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: basic("nope") }, { authorization: `Bearer ${env.ADMIN_TOKEN}` }]) {
        const response = await post(path, body, headers)
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
        // Segment's routes ask for Basic credentials (the write key); /webhook names its own.
        expect(response.headers.get("www-authenticate")).toBe(path === "/webhook" ? null : "Basic realm=\"ingest\", charset=\"UTF-8\"")
        expect(await response.text()).not.toContain(env.INGEST_TOKEN)
      }
    }
    // The signature is accepted on /webhook only.
    expect((await post("/v1/batch", body, { "x-signature": await sign(body) })).status).toBe(401)
  })

  it("answers 400, 413 and 415 with what was wrong", async () => {
    const auth = { authorization: `Bearer ${env.INGEST_TOKEN}` }
    const notJson = await post("/v1/batch", "{nope", auth)
    expect(notJson.status).toBe(400)
    expect(((await notJson.json()) as { error: string }).error).toMatch(/^the body is not JSON/)
    const invalid = await post("/v1/batch", JSON.stringify({ batch: [{ type: "identify", userId: "u" }] }), auth)
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ error: "no event in the body is valid", rejected: [{ index: 0 }] })
    const empty = await post("/v1/batch", JSON.stringify({ batch: [] }), auth)
    expect(await empty.json()).toEqual({ error: "the body holds no events" })
    const big = await post("/v1/batch", JSON.stringify({ batch: [event("u", "a@b.co")], pad: "x".repeat(4 * 1024 * 1024) }), auth)
    expect(big.status).toBe(413)
    expect(await big.json()).toEqual({ error: "the body is larger than 4194304 bytes (4 MiB); send smaller batches" })
    const xml = await SELF.fetch(`${base}/v1/batch`, { method: "POST", body: "<a/>", headers: { "content-type": "application/xml", ...auth } })
    expect(xml.status).toBe(415)
    expect(await xml.json()).toEqual({ error: "content-type must be application/json, got \"application/xml\"" })
    const form = await SELF.fetch(`${base}/webhook`, { method: "POST", body: "a=b", headers: { "content-type": "application/x-www-form-urlencoded", ...auth } })
    expect(form.status).toBe(415)
    const get = await SELF.fetch(`${base}/v1/batch`, { headers: auth })
    expect(get.status).toBe(405)
    expect(get.headers.get("allow")).toBe("POST")
    expect((await SELF.fetch(`${base}/nowhere`)).status).toBe(404)
  })
})

describe("ingest and the body of a request without credentials", () => {
  const chunk = 64 * 1024
  /** A body that never ends, counting the bytes the worker asks for (nothing is pulled ahead). */
  const endless = () => {
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        pulled += chunk
        controller.enqueue(new Uint8Array(chunk).fill(0x20))
      }
    }, { highWaterMark: 0 })
    return { body, pulled: () => pulled }
  }
  const send = (path: string, body: ReadableStream<Uint8Array>, headers: Record<string, string>) =>
    worker.fetch(new Request(`${base}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } }), env)

  it("answers 401 on the ingest routes before reading a byte of the body", async () => {
    for (const path of ["/v1/batch", "/v1/identify", "/v1/track", "/webhook"]) {
      for (const headers of [{}, { authorization: "Bearer nope" }, { authorization: basic("nope") }, { authorization: `Bearer ${env.ADMIN_TOKEN}` }]) {
        const stream = endless()
        const response = await send(path, stream.body, headers)
        expect(response.status, `${path} ${JSON.stringify(headers)}`).toBe(401)
        expect(stream.pulled(), `${path} ${JSON.stringify(headers)}`).toBe(0)
      }
    }
  })

  it("reads at most the size limit on /webhook before checking a signature; a valid token is read up to the same limit", async () => {
    const signed = endless()
    const refused = await send("/webhook", signed.body, { "x-signature": "0".repeat(40) })
    expect(refused.status).toBe(413)
    expect(signed.pulled()).toBeGreaterThan(maxBodyBytes)
    expect(signed.pulled()).toBeLessThanOrEqual(maxBodyBytes + chunk)
    // A signature on /v1/* is no credential there: nothing is read.
    const elsewhere = endless()
    expect((await send("/v1/batch", elsewhere.body, { "x-signature": "0".repeat(40) })).status).toBe(401)
    expect(elsewhere.pulled()).toBe(0)
    const authorized = endless()
    expect((await send("/v1/batch", authorized.body, { authorization: `Bearer ${env.INGEST_TOKEN}` })).status).toBe(413)
    expect(authorized.pulled()).toBeLessThanOrEqual(maxBodyBytes + chunk)
    expect(authorized.pulled()).toBeGreaterThan(maxBodyBytes)
  })
})
