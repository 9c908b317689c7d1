import { applyEvent } from '../support/apply-event';
import { findInvoice } from '../../src/db/invoices';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { paidLifecycle, uid } from '../support/stripe-events';
import { waitFor } from '../support/wait';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

/** What Stripe's Amazon EventBridge destination puts on the bus, routed by a rule into our queue. */
function envelope(e: Record<string, unknown>): Record<string, unknown> {
  return {
    version: '0',
    id: uid('eb'),
    'detail-type': e['type'],
    source: 'aws.partner/stripe.com/ed_test_61Sc0ej8iVN3t1bPa16Q7CD7lVAQn2NVlIfbB3lWS1j6',
    account: '000000000000',
    time: new Date((e['created'] as number) * 1000).toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: e,
  };
}

it('merges the Stripe event inside an EventBridge envelope, and stores the event, not the envelope', async () => {
  const id = uid('in');
  const [, finalized] = paidLifecycle(id, 1_700_000_000);
  const r = await applyEvent(db.ds, JSON.stringify(envelope(finalized!)));
  expect(r).toMatchObject({ outcome: 'merged', eventId: finalized!['id'], object: 'invoice', objectId: id });
  const [stored] = await db.ds.query(`SELECT payload->>'object' AS object, payload ? 'detail' AS wrapped FROM stripe_events WHERE id = $1`, [finalized!['id']]);
  expect(stored).toEqual({ object: 'event', wrapped: false });
  // The same event arriving by webhook too is a duplicate, not a second merge.
  expect(await applyEvent(db.ds, JSON.stringify(finalized))).toMatchObject({ outcome: 'duplicate' });
});

it('lands envelopes and plain events from one queue in the same rows', async () => {
  const sqs: TestSqs = await startTestSqs();
  const worker = await startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint, roles: ['worker'] });
  try {
    const id = uid('in');
    const events = paidLifecycle(id, 1_700_000_000);
    for (const [i, e] of events.entries()) await sendRaw(sqs.client, sqs.queueUrl, JSON.stringify(i % 2 ? envelope(e) : e));
    const processed = async () => (await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE stripe_invoice_id = $1 AND processed_at IS NOT NULL`, [id]))[0].n;
    await waitFor('every event processed', async () => (await processed()) === events.length);
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', amountRemainingCents: 0 });
  } finally {
    await worker.stop();
    await sqs.stop();
  }
});
