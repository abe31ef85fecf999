import { availableParallelism } from "node:os"
import { defineWorkersProject, type WorkerPoolOptionsContext } from "@cloudflare/vitest-pool-workers/config"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

// Wrangler and Miniflare must not reach the internet from tests (Request.cf data, update notices).
process.env["WRANGLER_SEND_METRICS"] = "false"
process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
process.env["WRANGLER_HIDE_BANNER"] = "true"

/**
 * The files that take longest (several kill-at-every-step sweeps, and the soak, which mostly waits
 * out a rate-limit pause), longest first. Without vitest's cache of durations (a fresh clone, CI)
 * files start largest first; the soak's file is small, so it started last and its 40 s were the
 * run's tail on one fork while the other had nothing left.
 */
const longestFirst = [
  "test/soak/Soak.test.ts",
  "test/core/5-tick/Resume.test.ts",
  "test/core/5-tick/StagedImport.test.ts",
  "test/core/5-tick/ReconcileSteps.test.ts",
  "test/workers/Contracts.test.ts",
  "test/workers/EndToEnd.test.ts",
  "test/core/5-tick/Deadline.test.ts",
  "test/core/3-plan/LowerBound.test.ts",
  "test/adapters/SandboxSync.test.ts",
  "test/core/2-ledger/PendingIndex.test.ts"
]

class LongestFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const rank = (file: TestSpecification) => {
      const at = longestFirst.findIndex((path) => file.moduleId.endsWith(path))
      return at < 0 ? longestFirst.length : at
    }
    // Sorting is stable: the other files keep vitest's own order after the listed ones.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: LongestFirst },
    // Vitest's default is cores - 1 forks: one on a 2-core machine, where the node files would run
    // one after another while many of them mostly wait (sandbox latency, rate windows, workerd).
    poolOptions: { forks: { maxForks: Math.max(2, availableParallelism() - 1) } },
    projects: [
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/core/**/*.test.ts", "test/adapters/**/*.test.ts", "test/contracts/**/*.test.ts", "test/sandbox/**/*.test.ts", "test/soak/**/*.test.ts", "test/deno-server/**/*.test.ts", "test/bench/**/*.test.ts"],
          testTimeout: 30_000,
          // The files share their fork's loaded modules (Effect above all): no test depends on a
          // module's fresh state, and loading them again for each file was a sixth of the run's CPU.
          poolOptions: { forks: { isolate: false } }
        }
      },
      defineWorkersProject({
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          globalSetup: ["./test/workers/global-setup.ts"],
          testTimeout: 30_000,
          deps: {
            optimizer: {
              ssr: {
                enabled: true,
                include: ["effect", "@effect/platform/HttpClient", "@effect/platform/FetchHttpClient", "fast-check"]
              }
            }
          },
          poolOptions: {
            workers: ({ inject }: WorkerPoolOptionsContext) => ({
              singleWorker: true,
              main: "./workers/index.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  MARKETO_ENDPOINT: inject("sandboxUrl") ?? "http://127.0.0.1:9",
                  MARKETO_CLIENT_ID: "local-client-id",
                  MARKETO_CLIENT_SECRET: "local-client-secret",
                  INGEST_TOKEN: "test-ingest-token",
                  INGEST_SECRET: "test-ingest-secret",
                  ADMIN_TOKEN: "test-admin-token"
                }
              }
            })
          }
        }
      })
    ]
  }
})
