import { spawn } from "node:child_process";
import fs from "node:fs";

/** Resident memory of one process, from /proc/PID/status (Linux only), in megabytes (MiB). */
export interface MemoryReading {
  /** VmRSS: resident now. */
  rssMb: number;
  /** VmHWM: the highest resident size since start or since the last resetPeak(). */
  peakMb: number;
}

export function readMemory(pid: number): MemoryReading {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return { rssMb: field(status, "VmRSS"), peakMb: field(status, "VmHWM") };
}

/**
 * Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux ≥ 4.0), so a later reading
 * gives the peak of one phase, including spikes shorter than the sampling interval.
 * False when the kernel or our privileges do not allow it.
 */
export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Reads a process's RSS every `intervalMs` until stopped; stop() gives the highest reading. */
export function sampleMemory(pid: number, intervalMs: number): { stop(): { samples: number; maxRssMb: number } } {
  let samples = 0;
  let maxRssMb = 0;
  const take = () => {
    try {
      maxRssMb = Math.max(maxRssMb, readMemory(pid).rssMb);
      samples++;
    } catch {
      // The process is gone; the caller finds out from its own connection.
    }
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { samples, maxRssMb };
    },
  };
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status);
  if (!match) throw new Error(`no ${name} in /proc status`);
  return Number(match[1]) / 1024;
}

/**
 * RSS of node doing nothing, plain and with the tsx loader the proxy runs under, so that the
 * proxy's own share of its RSS can be told apart. A lower bound: tsx grows with the modules it loads.
 */
export async function nodeBaselines(cwd: string): Promise<{ plain: number; tsx: number }> {
  const idle = async (args: string[]) => {
    const child = spawn(process.execPath, [...args, "--eval", "setInterval(() => undefined, 1000)"], { cwd, stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return readMemory(child.pid!).rssMb;
    } finally {
      child.kill("SIGKILL");
    }
  };
  const [plain, tsx] = await Promise.all([idle([]), idle(["--import", "tsx"])]);
  return { plain, tsx };
}
