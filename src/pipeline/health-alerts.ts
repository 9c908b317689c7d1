import type { DataSource } from 'typeorm';
import { claimHealthAlert, settleHealthAlert } from '../db/event-log';
import { invoiceOfRepair } from '../recovery/health-repair';
import { HEALTH_ALERT_OBJECT } from '../stripe-objects/health-alert';
import type { EventIdentity } from '../stripe-objects/identify-event';
import { identityRecord } from './apply-batch';
import type { BatchOutcome, ProcessOptions } from './types';

/** What an alert waits for when nothing can fetch: `stats` counts these, `reconcile` repairs them. */
const ALERT_NEEDS_RECONCILE =
  'Stripe failed to generate events for an object; STRIPE_SECRET_KEY is not set, so it cannot be read again: set it and run `billing reconcile --alerts`';

/**
 * One Stripe health alert: stored in the event log, then repaired with the API when a key is set
 * (see repairHealthAlert), which writes through the pipeline's one path in its own transactions;
 * the alert is marked processed once the repair has committed (repairAndRecord). Without a key the alert is kept
 * unprocessed with the reason and acknowledged: Stripe would only send it again, and `reconcile`
 * repairs it once a key is set. A repair that fails leaves the message on the queue.
 */
export async function applyHealthAlert(
  ds: DataSource,
  who: EventIdentity & { id: string; type: string },
  payload: string,
  force: boolean,
  options: Pick<ProcessOptions, 'repairAlert'>,
): Promise<BatchOutcome> {
  const record = identityRecord(who, null);
  const object = HEALTH_ALERT_OBJECT;
  const result = { eventId: who.id, type: who.type, object, objectId: who.id, created: who.created ?? 0 };
  try {
    const claim = await claimHealthAlert(ds.manager, record, payload);
    if (claim === 'done' && !force) return { ok: true, result: { ...result, outcome: 'duplicate' } };
    if (!options.repairAlert) {
      await settleHealthAlert(ds.manager, who.id, { error: ALERT_NEEDS_RECONCILE });
      return { ok: true, result: { ...result, outcome: 'unchanged' } };
    }
    const repaired = await options.repairAlert(ds, who.id, who.account);
    const changed = repaired.repair.action === 'refetched' || (repaired.repair.action === 'reconciled' && repaired.repair.report.action !== 'unchanged');
    return { ok: true, result: { ...result, outcome: changed ? 'merged' : 'unchanged', objectId: invoiceOfRepair(repaired.repair) ?? who.id } };
  } catch (error) {
    return { ok: false, error, object };
  }
}
