import type { LockHolder } from './data-dir-lock';

/** A long-running process (`billing dev`, `worker`, `mailer`) or a one-off command (`stats`, `invoices`, …). */
export type Lifetime = 'service' | 'command';

export type HeldDatabaseAccess = 'share' | 'wait' | 'refuse';

/**
 * Pure: what a process that wants the embedded database does when another live process holds
 * DATA_DIR. Only a one-off command uses another process's server, and only a long-running one's
 * (a one-off command's server goes away when that command ends); while such a process is still
 * starting, its server is waited for. A long-running process never shares: it would lose its
 * database whenever the other one stopped.
 */
export function accessHeldDatabase(lifetime: Lifetime, holder: Pick<LockHolder, 'shared' | 'postgresPort'>): HeldDatabaseAccess {
  if (lifetime === 'service' || !holder.shared) return 'refuse';
  return holder.postgresPort === undefined ? 'wait' : 'share';
}
