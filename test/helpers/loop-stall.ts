/**
 * How long the event loop is kept from turning, measured so that a loaded
 * machine does not inflate it: between two consecutive turns (a timer
 * every 2 ms) the CPU time the main thread itself spent, read from
 * /proc/self/task/<pid>/stat (Linux; clock ticks, usually 10 ms). A busy
 * machine delays turns in wall time, but the main thread's own CPU time
 * between them grows only when the thread is working, i.e. blocking the
 * loop. The wall-time stall is reported beside it, for information.
 */
import { readFileSync } from 'node:fs';

const STAT = `/proc/self/task/${process.pid}/stat`;
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** utime + stime of the main thread, in ms (undefined off Linux). */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(STAT, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

export interface LoopStall {
  /** The most CPU time the main thread spent between two turns, in ms (wall time off Linux). */
  cpuMs: number;
  /** The longest wall-clock gap between two turns, in ms. */
  wallMs: number;
}

/** Starts watching the loop; stop() returns the longest stalls seen. */
export function watchLoop(): { stop(): LoopStall } {
  let lastWall = performance.now();
  let lastCpu = mainThreadCpuMs();
  const worst: LoopStall = { cpuMs: 0, wallMs: 0 };
  const timer = setInterval(() => {
    const wall = performance.now();
    const cpu = mainThreadCpuMs();
    worst.wallMs = Math.max(worst.wallMs, wall - lastWall);
    worst.cpuMs = Math.max(worst.cpuMs, cpu !== undefined && lastCpu !== undefined ? cpu - lastCpu : wall - lastWall);
    lastWall = wall;
    lastCpu = cpu;
  }, 2);
  return {
    stop() {
      clearInterval(timer);
      return worst;
    },
  };
}
