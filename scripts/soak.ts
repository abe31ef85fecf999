// npm run soak -- --seconds N --seed S: the fault soak of the real worker (docs/reliability.md);
// with --runtime deno, of the Deno server over Deno KV instead of the worker in workerd.
// With --scenarios N instead of --seconds, exactly N scenarios run, the same whatever the
// machine's speed. Prints a readable summary, then the report as one JSON line; exits 1 when an
// invariant fails.
import { parseArgs } from "node:util"
import { type ImportProfile, importProfiles } from "../test/sandbox/SandboxConfig.js"
import { faultKinds, runSoak } from "../test/soak/Soak.js"

process.env["WRANGLER_SEND_METRICS"] = "false"
process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
process.env["WRANGLER_HIDE_BANNER"] = "true"

const { values } = parseArgs({
  options: {
    seconds: { type: "string" },
    scenarios: { type: "string" },
    seed: { type: "string", default: "1" },
    quiet: { type: "boolean", default: false },
    faults: { type: "string" },
    runtime: { type: "string", default: "cloudflare" },
    imports: { type: "string" }
  }
})
// 60 s of faults unless a time or a number of scenarios is given (not both).
const seconds = values.scenarios === undefined ? Number(values.seconds ?? "60") : undefined
const scenarios = values.scenarios === undefined ? undefined : Number(values.scenarios)
const seed = Number(values.seed)
const known = [...faultKinds, "long-606-storm", "lost"]
const unknown = values.faults?.split(",").filter((f) => !known.includes(f as never)) ?? []
const badBound = scenarios === undefined
  ? !Number.isFinite(seconds) || seconds! <= 0
  : values.seconds !== undefined || !Number.isInteger(scenarios) || scenarios <= 0
const runtime = values.runtime
const imports = values.imports === undefined || importProfiles.includes(values.imports as ImportProfile) ? values.imports as ImportProfile | undefined : "bad"
if (badBound || !Number.isInteger(seed) || unknown.length > 0 || (runtime !== "cloudflare" && runtime !== "deno") || imports === "bad") {
  console.error(`usage: npm run soak -- (--seconds N | --scenarios N) --seed S [--faults ${[...new Set(known)].join(",")}] [--runtime cloudflare|deno] [--imports realistic|fast] [--quiet]`)
  process.exit(2)
}

const report = await runSoak({
  ...(scenarios === undefined ? { seconds: seconds! } : { scenarios }),
  seed,
  runtime,
  ...(values.faults === undefined ? {} : { faults: values.faults.split(",") }),
  ...(imports === undefined ? {} : { imports }),
  ...(values.quiet ? {} : { progress: (line: string) => console.error(line) })
})
const faults = Object.entries(report.faults).map(([k, n]) => `${k} ${n}`).join(", ")
console.log([
  report.boundBy === "seconds"
    ? `soak: ${report.seconds} s of faults, seed ${report.seed}, ${imports ?? "realistic"} imports, ${report.elapsedSeconds} s in all`
    : `soak: ${report.scenarios} scenarios of faults in ${report.seconds} s, seed ${report.seed}, ${report.elapsedSeconds} s in all`,
  `  scenarios ${report.scenarios}; events generated ${report.events.generated}, sent ${report.events.sent} in ${report.events.batches} batches (${report.events.retried} retried)`,
  `  faults: ${faults}`,
  `  ticks ${report.ticks.run} (killed ${report.ticks.killed}, failed ${report.ticks.failed}, drain ${report.ticks.drain}, overlapping cron ticks ${report.ticks.overlapping}, busy ${report.ticks.busy}); clock jumps ${report.clockJumps.count}`,
  `  sandbox calls ${report.sandboxCalls.total}: ${JSON.stringify(report.sandboxCalls.byOutcome)}; imports run ${report.sandboxCalls.importsRun}, lists created ${report.sandboxCalls.listsCreated}`,
  ...(Object.keys(report.sandboxCalls.lostByEndpoint).length === 0 ? [] : [`  answers lost after the call ran: ${JSON.stringify(report.sandboxCalls.lostByEndpoint)}`]),
  `  lists checked ${report.listsChecked} (${report.emailsDesired} emails), mismatches ${report.mismatches.length}`,
  `  own 606 ${report.own606}, own 615 ${report.own615}; max calls in a 20 s window ${report.maxCallsIn20s} (allowed ${report.callsPerWindowAllowed})`,
  `  calls with a token after it was known bad: ${report.expiredTokenCallsBeyondDiscovery}`,
  `  worker errors logged: ${JSON.stringify(report.workerErrors)}`,
  `  outputs searched for secrets ${report.outputsScanned}, holding one: ${report.secretsInOutputs.length}`,
  report.ok ? "  every invariant holds" : `  FAILED: ${report.failures.join("; ")}`
].join("\n"))
console.log(JSON.stringify(report))
process.exit(report.ok ? 0 : 1)
