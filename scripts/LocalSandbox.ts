// The local Marketo sandbox that `npm start` and `npm run start:deno` run beside the product on
// 127.0.0.1:8788 (SANDBOX_PORT), unless MARKETO_ENDPOINT names a real Marketo. Its imports take as
// long as Marketo's; SANDBOX_IMPORTS=fast or `-- --imports fast` makes them take seconds.
import { parseArgs } from "node:util"

export interface LocalSandbox {
  readonly url: string
  close(): Promise<void>
}

export const startLocalSandbox = async (env: NodeJS.ProcessEnv): Promise<LocalSandbox | undefined> => {
  const external = env["MARKETO_ENDPOINT"]
  if (external !== undefined && external !== "") return undefined
  const { startSandboxServer } = await import("../test/sandbox/server.js")
  const { importProfileOf, importTimings } = await import("../test/sandbox/SandboxConfig.js")
  const { values } = parseArgs({ options: { imports: { type: "string" } } })
  const imports = importProfileOf(values.imports ?? env["SANDBOX_IMPORTS"])
  const sandbox = await startSandboxServer({ port: Number(env["SANDBOX_PORT"] ?? 8788), host: "127.0.0.1", config: importTimings(imports) })
  console.log(`marketo sandbox: ${imports} imports`)
  return sandbox
}
