// What /proc tells about a process on Linux, for the tick benchmark: CPU ticks (utime + stime) and
// parent, name, resident memory and its peak (VmRSS, VmHWM), and the workerd process Miniflare
// started below this one.
import { readdirSync, readFileSync } from "node:fs"

export const statOf = (pid: number) => {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ")
  return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) }
}
export const commOf = (pid: number) => readFileSync(`/proc/${pid}/comm`, "utf8").trim()
export const statusKb = (pid: number, field: "VmRSS" | "VmHWM") => {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return Number(match?.[1] ?? NaN)
}

/** The workerd process Miniflare started: a descendant of this process named workerd. */
export const findWorkerd = (): number => {
  const parents = new Map<number, number>()
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    try {
      parents.set(Number(name), statOf(Number(name)).ppid)
    } catch { /* gone */ }
  }
  const descends = (pid: number) => {
    for (let p = pid, i = 0; p > 1 && i < 10; p = parents.get(p) ?? 0, i++) if (p === process.pid) return true
    return false
  }
  const found = [...parents.keys()].filter((pid) => pid !== process.pid && descends(pid) && commOf(pid).startsWith("workerd"))
  if (found.length !== 1) throw new Error(`expected one workerd child, found ${found.length}`)
  return found[0]!
}
