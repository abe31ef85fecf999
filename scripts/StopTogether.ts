// A local run's processes end together: Ctrl-C, SIGTERM or the child's own exit stops the child's
// process group (wrangler and workerd, or npx and Deno), then runs the caller's cleanup (the
// sandbox), then exits; and however this process ends, the group is sent SIGTERM.
import type { ChildProcess } from "node:child_process"

export const stopTogether = (group: ChildProcess, cleanup: () => Promise<void>) => {
  const killGroup = () => {
    try {
      if (group.pid !== undefined && group.exitCode === null) process.kill(-group.pid, "SIGTERM")
    } catch { /* already gone */ }
  }
  let stopping = false
  const stop = async (code: number) => {
    if (stopping) return
    stopping = true
    killGroup()
    await cleanup()
    process.exit(code)
  }
  process.on("SIGINT", () => void stop(0))
  process.on("SIGTERM", () => void stop(0))
  process.on("exit", killGroup)
  group.on("exit", (code) => void stop(code ?? 1))
}
