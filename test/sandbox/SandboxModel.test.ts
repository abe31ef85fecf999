// The model as a whole: `step` as a pure function that agrees with the in-place model, and paging
// a list of 100,000 members. Each endpoint's own cases are in the SandboxModel*.test.ts beside it.
import { describe, expect, it } from "vitest"
import { SandboxModel, step } from "./SandboxModel.js"
import { caller, codeOf, parse, tokenUrl } from "./SandboxTestKit.js"

describe("the model as a function", () => {
  it("step leaves the given state untouched, replays identically from it, and agrees with the in-place model", () => {
    const live = new SandboxModel({ leads: ["a@example.com"], lists: [{ name: "L" }] }, 42)
    live.setFaults([{ kind: "611", rate: 0.5 }])
    const start = structuredClone(live.state)
    const token = { method: "GET", url: tokenUrl(), headers: {}, body: "" }
    const calls = (bearer: string) => Array.from({ length: 12 }, (_, i) => ({
      method: "POST",
      url: "/rest/v1/leads.json",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ action: "createOrUpdate", lookupField: "email", input: [{ email: `u${i}@example.com` }] })
    }))
    const run = (from: typeof start) => {
      let state = from
      const [afterToken, tokenAnswer] = step(state, token, 0)
      state = afterToken
      const answers = [tokenAnswer.body]
      for (const [i, call] of calls(parse(tokenAnswer).access_token!).entries()) {
        const [next, answer] = step(state, call, 1_000 * i)
        state = next
        answers.push(answer.body)
      }
      return { state, answers }
    }
    const pristine = structuredClone(start)
    const first = run(start)
    expect(start).toEqual(pristine)
    expect(first.state.leads.size).toBe(start.leads.size + outcomesOk(first.answers))
    const second = run(start)
    expect(second.answers).toEqual(first.answers)
    // Faults came from the seeded generator carried in the state: some calls failed, some did not.
    const outcomes = first.answers.slice(1).map((a) => codeOf(parse({ body: a })) ?? "ok")
    expect(outcomes).toContain("611")
    expect(outcomes).toContain("ok")
    const liveToken = live.handle(token, 0)
    expect(liveToken.body).toBe(first.answers[0])
    const inPlace = calls(parse(liveToken).access_token!).map((c, i) => live.handle(c, 1_000 * i).body)
    expect(inPlace).toEqual(first.answers.slice(1))
    expect(first.state.leads.size).toBe(live.state.leads.size)
  })
})

const outcomesOk = (answers: ReadonlyArray<string>) => answers.slice(1).filter((a) => parse({ body: a }).success === true).length

describe("at scale", () => {
  it("pages 100,000 members in 334 calls of 300, in id order, with none repeated or missed", () => {
    const m = new SandboxModel({ callsPerWindow: 1_000 })
    const emails = Array.from({ length: 100_000 }, (_, i) => `user${i}@example.com`)
    const list = m.addList("big", 1034, emails)
    const { call } = caller(m)
    const started = performance.now()
    const seen: Array<number> = []
    let token: string | undefined
    let calls = 0
    do {
      const page = call("GET", `/rest/v1/lists/${list}/leads.json?batchSize=300&fields=id,email${token === undefined ? "" : `&nextPageToken=${encodeURIComponent(token)}`}`)
      for (const lead of page.result ?? []) seen.push(lead["id"] as number)
      token = page.nextPageToken
      calls++
    } while (token !== undefined)
    console.log(`paged 100,000 members in ${calls} calls, ${Math.round(performance.now() - started)} ms`)
    expect(calls).toBe(334)
    expect(seen).toHaveLength(100_000)
    expect(new Set(seen).size).toBe(100_000)
    expect(seen.every((id, i) => i === 0 || id > seen[i - 1]!)).toBe(true)
  })
})
