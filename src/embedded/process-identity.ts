import fs from 'node:fs';

/**
 * A process as the kernel knows it: its pid plus what tells this pid's process apart from a later
 * one that reuses the number (the start time in clock ticks since boot, and the boot it belongs
 * to). Both are Linux's /proc facts; where /proc is missing they stay undefined and only the pid
 * is compared.
 */
export interface ProcessIdentity {
  pid: number;
  startTicks?: string;
  bootId?: string;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat; the command name before it may hold spaces and parentheses. */
export function startTicksFromStat(stat: string): string | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields[19];
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : undefined;
}

function startTicksOf(pid: number): string | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : startTicksFromStat(stat);
}

function bootId(): string | undefined {
  return readText('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

export function identityOf(pid: number): ProcessIdentity {
  return { pid, startTicks: startTicksOf(pid), bootId: bootId() };
}

export function ownIdentity(): ProcessIdentity {
  return identityOf(process.pid);
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, and belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Pure: is `now` (what the system says about the pid today) the process `recorded` described?
 * A different boot or a different start time means the number was reused by another process.
 */
export function sameProcess(recorded: ProcessIdentity, now: { exists: boolean; startTicks?: string; bootId?: string }): boolean {
  if (!now.exists) return false;
  if (recorded.bootId && now.bootId && recorded.bootId !== now.bootId) return false;
  if (recorded.startTicks && now.startTicks && recorded.startTicks !== now.startTicks) return false;
  return true;
}

/** Whether the process a lock or pid file recorded is still the one running under that pid. */
export function isRunning(recorded: ProcessIdentity): boolean {
  if (!Number.isSafeInteger(recorded.pid) || recorded.pid <= 0) return false;
  const exists = pidExists(recorded.pid);
  return sameProcess(recorded, { exists, startTicks: exists ? startTicksOf(recorded.pid) : undefined, bootId: bootId() });
}

/** The executable name of a running process (Linux), for checking that a pid is what a file says it is. */
export function commandName(pid: number): string | undefined {
  return readText(`/proc/${pid}/comm`)?.trim();
}

/** A process's arguments as it was started (Linux), for checking that it runs on a given folder. */
export function commandLine(pid: number): string[] | undefined {
  return readText(`/proc/${pid}/cmdline`)?.split('\0').filter(Boolean);
}
