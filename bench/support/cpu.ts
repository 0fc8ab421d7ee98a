import fs from "node:fs";

/** CPU time a process has used, seconds: in its own code (user) and in the kernel for it (system). */
export interface CpuTime {
  user: number;
  system: number;
}

/** USER_HZ, which Linux fixes at 100 on every architecture node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time of a process and every live descendant, from /proc: the proxy may hand connections to
 * worker processes (AIRLOCK_PROXY_WORKERS), whose time is not in its own /proc/PID/stat until
 * they exit. Threads (worker_threads) are already in the process's figure.
 */
export function readTreeCpu(pid: number): CpuTime {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const parent = Number(fields[1]);
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const total = { user: 0, system: 0 };
  const todo = [pid];
  while (todo.length > 0) {
    const next = todo.pop()!;
    const fields = statFields(next);
    if (!fields) continue; // exited between the listing and the read
    total.user += Number(fields[11]) / CLOCK_TICKS_PER_SECOND;
    total.system += Number(fields[12]) / CLOCK_TICKS_PER_SECOND;
    todo.push(...(children.get(next) ?? []));
  }
  return total;
}

/** /proc/PID/stat from field 3 on (state, ppid, …; utime and stime at 11 and 12), or undefined when gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name in parentheses may hold spaces: split after its closing one.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}
