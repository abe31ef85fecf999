// The contracts as vitest suites, for the runners in Node and inside workerd.
import { describe, it } from "vitest"
import { type ContractCase, runCase } from "./Contract.js"

export const describeContract = <H>(name: string, cases: ReadonlyArray<ContractCase<H>>, harness: H): void => {
  describe(name, () => {
    for (const c of cases) it(c.name, () => runCase(c, harness))
  })
}
