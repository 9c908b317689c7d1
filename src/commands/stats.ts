import { loadConfig } from '../config';
import { formatMinorUnits } from '../read-models/amounts';
import { printable } from '../read-models/table';
import { createLogger } from '../log';
import { databaseStats, queueDepth, type DatabaseStats, type QueueDepth } from '../read-models/stats';
import { Closers, StartupError } from '../run/resources';
import { accountScopeOption } from './options';
import { print } from './usage';
import { commandQueue, withServices } from './with-database';

type QueueReport = { queue: QueueDepth; dlq: QueueDepth } | { unavailable: string };

/**
 * The queue is looked at separately from the database: in an outage the one that still answers
 * is exactly what the engineer needs, so a dead queue is reported, not fatal to the report.
 */
async function queueReport(env: NodeJS.ProcessEnv): Promise<QueueReport> {
  const config = loadConfig(env);
  const closers = new Closers();
  try {
    const q = await commandQueue(config, closers);
    return { queue: await queueDepth(q.sqs, q.url), dlq: await queueDepth(q.sqs, q.dlqUrl) };
  } catch (err) {
    return { unavailable: err instanceof StartupError ? err.message : `queue unreachable: ${(err as Error).message.split('\n')[0] || (err as Error).name}` };
  } finally {
    await closers.closeAll(createLogger('silent'));
  }
}

function human(db: DatabaseStats, q: QueueReport): string {
  const out: string[] = [];
  if (db.account) out.push(`${db.account === 'platform' ? "the platform's own" : `connected account ${db.account}`}: invoices, overdue and events (notices and queues: all accounts)`);
  out.push('invoices (not deleted)');
  if (db.invoices.length === 0) out.push('  none');
  for (const r of db.invoices) {
    const writtenOff = r.amountWrittenOffCents === 0 ? '' : `   written off ${formatMinorUnits(r.amountWrittenOffCents, r.currency)}`;
    out.push(`  ${r.status.padEnd(14)} ${r.currency.padEnd(4)} ${String(r.count).padStart(7)}   remaining ${formatMinorUnits(r.amountRemainingCents, r.currency)}${writtenOff}`);
  }
  if (db.unknownStatuses.length > 0) {
    const which = db.unknownStatuses.map((u) => `${u.status} ${u.count}`).join(', ');
    out.push(`  note: statuses this version does not know (${which}): stored as Stripe sent them; never overdue, no emails`);
  }
  out.push('overdue');
  if (db.overdue.length === 0) out.push('  none');
  for (const r of db.overdue) out.push(`  ${r.currency.padEnd(4)} ${String(r.count).padStart(7)}   remaining ${formatMinorUnits(r.amountRemainingCents, r.currency)}`);
  const e = db.events;
  out.push(`events     ${e.total} stored, ${e.unprocessed} unprocessed, ${e.failed} failing${e.payloadsPruned ? `, ${e.payloadsPruned} with payload pruned` : ''}`);
  if (e.oldestUnprocessed) out.push(`  oldest unprocessed: ${e.oldestUnprocessed.id} (${e.oldestUnprocessed.type}) received ${e.oldestUnprocessed.receivedAt}`);
  const alerts = db.healthAlerts.needReconcile;
  if (alerts > 0) {
    out.push(`  Stripe failed to generate events for ${alerts} object(s) (health alert${alerts === 1 ? '' : 's'} ${db.healthAlerts.ids.slice(0, 5).join(', ')}${alerts > 5 ? ', …' : ''}): run \`billing reconcile --alerts\` with STRIPE_SECRET_KEY set`);
  }
  const unknown = db.wallet.unknownReasons;
  if (unknown.length > 0) {
    const which = unknown.map((u) => printable(`reason ${u.reason}${u.walletEffect === null ? '' : ` with wallet_effect ${u.walletEffect}`}: ${u.count}`, 120)).join(', ');
    out.push(`wallet     invoices of reasons this version does not know (${which}): paying them writes no ledger entry`);
  }
  out.push(`notices    ${db.notices.pending} pending, ${db.notices.failed} failed, ${db.notices.skipped} skipped`);
  if ('unavailable' in q) out.push(`queue      ${q.unavailable}`);
  else {
    out.push(`queue      ${q.queue.visible} waiting, ${q.queue.inFlight} in flight, ${q.queue.delayed} delayed`);
    out.push(`DLQ        ${q.dlq.visible} waiting${q.dlq.visible > 0 ? '  (billing replay dlq --dry-run shows them)' : ''}`);
  }
  return out.join('\n');
}

export async function printStats(o: { json?: boolean; account?: string }, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const account = accountScopeOption(o.account);
  const db = await withServices({}, ({ ds }) => databaseStats(ds, account), env);
  const q = await queueReport(env);
  print({ ...db, ...('unavailable' in q ? { queue: null, dlq: null, queueUnavailable: q.unavailable } : q) }, o.json ?? false, () => human(db, q));
  // Configured but unreachable is an outage a script must notice; not configured is a laptop without `npm start`.
  if ('unavailable' in q && loadConfig(env).queue) process.exitCode = 1;
}
