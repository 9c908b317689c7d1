import { planDunning } from '../../src/billing/dunning';
import { derivedAmounts, derivedStatus, invoiceSchema } from '../../src/billing/invoice-layouts';
import { isKnownStatus, type InvoiceState } from '../../src/billing/invoice-state';
import { mergeInvoice } from '../../src/billing/merge';
import { planNotices } from '../../src/billing/notice-plan';
import { noticesForChange } from '../../src/billing/notices';
import { isOverdue } from '../../src/billing/overdue';
import { snapshotFromEvent, type InvoiceSnapshot } from '../../src/billing/snapshot';
import { MalformedEventError } from '../../src/errors';
import { findInvoice } from '../../src/db/invoices';
import { noticeEffects } from '../../src/effects/notice-effects';
import { OpenEndedInvoiceStatus1765000000000 } from '../../migrations/1765000000000-OpenEndedInvoiceStatus';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { LAYOUTS, layoutEvent } from './invoice-layout-payloads';
import { NOW, draftInvoice, finalize, pay, type InvoiceJson } from './invoice-events';

const DAY = 86_400;
const openInvoice = (overrides: Partial<InvoiceJson> = {}) => finalize(draftInvoice(overrides), NOW - 9 * DAY);

const envelope = (type: string, object: unknown, created = NOW - DAY, id = `evt_${type}_${created}`) => ({
  id,
  object: 'event',
  type,
  created,
  livemode: false,
  api_version: '2026-10-28.endive',
  data: { object },
});

function thrown(event: unknown): MalformedEventError {
  try {
    snapshotFromEvent(event);
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedEventError);
    return error as MalformedEventError;
  }
  throw new Error('read without an error');
}

describe('every documented layout reads to the same snapshot fields', () => {
  it.each(LAYOUTS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const snapshot = snapshotFromEvent(layoutEvent(c, 'evt_layout'));
    expect(snapshot).toMatchObject({ eventType: c.type, apiVersion: c.apiVersion, stub: false, deleted: false });
    expect(snapshot.fields).toMatchObject({ ...c.expected, currency: expect.stringMatching(/^[a-z]{3}$/) });
  });
});

describe('a payload without status (before 2018, or status null)', () => {
  const old = (fields: Record<string, unknown>) =>
    invoiceSchema.parse({ id: 'in_old', object: 'invoice', amount_due: 500, total: 500, currency: 'usd', date: 1_460_000_000, ...fields });

  it.each<[string, Record<string, unknown>, string]>([
    ['paid wins over everything else', { paid: true, closed: true, forgiven: true, attempted: true }, 'paid'],
    ['forgiven is uncollectible', { paid: false, closed: true, forgiven: true, attempted: true }, 'uncollectible'],
    ['closed but unpaid is still owed: open', { paid: false, closed: true, forgiven: false, attempted: true }, 'open'],
    ['attempted and failed, still retrying: open', { paid: false, closed: false, forgiven: false, attempted: true }, 'open'],
    ['not yet attempted, charged automatically: draft', { paid: false, closed: false, forgiven: false, attempted: false }, 'draft'],
    ['not yet attempted but closed: open', { paid: false, closed: true, forgiven: false, attempted: false }, 'open'],
    ['send_invoice, never attempted: open', { paid: false, closed: false, attempted: false, billing: 'send_invoice' }, 'open'],
    ['a top-level finalized_at that is null: draft', { paid: false, finalized_at: null, attempted: true }, 'draft'],
    ['a top-level finalized_at that is set: open', { paid: false, finalized_at: 1_460_000_100, attempted: false }, 'open'],
    ['status null, status_transitions not finalized: draft', { status: null, status_transitions: { finalized_at: null } }, 'draft'],
    ['status null, status_transitions finalized: open', { status: null, status_transitions: { finalized_at: 1_460_000_100 } }, 'open'],
  ])('%s', (_name, fields, status) => {
    expect(derivedStatus(old(fields))).toBe(status);
    expect(snapshotFromEvent(envelope('invoice.updated', old(fields))).fields?.status).toBe(status);
  });

  it.each<[string, Record<string, unknown>, string, { paid: number; remaining: number }]>([
    ['a paid invoice was paid in full', {}, 'paid', { paid: 500, remaining: 0 }],
    ['any other owes all it is due', {}, 'open', { paid: 0, remaining: 500 }],
    ['an unknown status owes all it is due', {}, 'partially_paid', { paid: 0, remaining: 500 }],
    ['amount_remaining from amount_paid', { amount_paid: 200 }, 'open', { paid: 200, remaining: 300 }],
    ['amount_paid from amount_remaining', { amount_remaining: 100 }, 'open', { paid: 400, remaining: 100 }],
    ['both as sent, never recomputed', { amount_paid: 0, amount_remaining: 0 }, 'void', { paid: 0, remaining: 0 }],
  ])('amounts: %s', (_name, fields, status, amounts) => {
    expect(derivedAmounts(old(fields), status as never)).toEqual(amounts);
  });

  it('takes the newer name where a payload carries both (2018–2019 payloads do)', () => {
    const both = {
      ...draftInvoice({ status: 'open' }),
      billing: 'charge_automatically',
      collection_method: 'send_invoice',
      date: 1_500_000_000,
      created: 1_600_000_000,
      finalized_at: 1_500_000_100,
      status_transitions: { finalized_at: 1_600_000_100, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    };
    expect(snapshotFromEvent(envelope('invoice.updated', both)).fields).toMatchObject({
      collectionMethod: 'send_invoice',
      stripeCreatedAt: 1_600_000_000,
      finalizedAt: 1_600_000_100,
    });
  });

  it('keeps a collection method that is null as null; only its absence means charged automatically', () => {
    const read = (fields: Record<string, unknown>) => snapshotFromEvent(envelope('invoice.updated', old({ paid: true, ...fields }))).fields?.collectionMethod;
    expect(read({})).toBe('charge_automatically');
    expect(read({ billing: 'send_invoice' })).toBe('send_invoice');
    expect(read({ collection_method: null })).toBeNull();
  });
});

describe('a status Stripe adds later', () => {
  const due = NOW - 10 * DAY;
  const partially = (created: number, extra: Record<string, unknown> = {}) =>
    envelope('invoice.updated', { ...openInvoice({ due_date: due, amount_paid: 1000, amount_remaining: 1500 }), status: 'partially_paid', ...extra }, created);
  const open = (created: number) => envelope('invoice.finalized', openInvoice({ due_date: due }), created);
  const paid = (created: number) => envelope('invoice.paid', pay(openInvoice({ due_date: due }), created), created);
  const draft = (created: number) => envelope('invoice.created', draftInvoice({ due_date: due }), created);
  const fold = (events: unknown[]): InvoiceState =>
    events.reduce<InvoiceState | null>((row, e) => mergeInvoice(row, snapshotFromEvent(e), NOW), null)!;
  const permutations = <T>(xs: T[]): T[][] =>
    xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

  it('is carried as sent', () => {
    const snapshot = snapshotFromEvent(partially(NOW - DAY));
    expect(snapshot.fields).toMatchObject({ status: 'partially_paid', amountPaidCents: 1000, amountRemainingCents: 1500 });
    expect(isKnownStatus(snapshot.fields!.status)).toBe(false);
  });

  it('ranks like open: a newer open replaces it, an older one does not, and it never beats a settled status', () => {
    expect(fold([open(NOW - 3 * DAY), partially(NOW - 2 * DAY)]).status).toBe('partially_paid');
    expect(fold([partially(NOW - 2 * DAY), open(NOW - 3 * DAY)]).status).toBe('partially_paid');
    expect(fold([partially(NOW - 2 * DAY), open(NOW - DAY)]).status).toBe('open');
    expect(fold([paid(NOW - 3 * DAY), partially(NOW - DAY)]).status).toBe('paid');
    expect(fold([partially(NOW - DAY), draft(NOW)]).status).toBe('partially_paid');
  });

  it('converges whatever the order of a lifecycle that passes through it', () => {
    const lifecycle = [draft(NOW - 4 * DAY), open(NOW - 3 * DAY), partially(NOW - 2 * DAY), paid(NOW - DAY)];
    const ends = new Set(permutations(lifecycle).map((order) => JSON.stringify(fold(order))));
    expect(ends.size).toBe(1);
    expect(fold(lifecycle).status).toBe('paid');
    const unsettled = lifecycle.slice(0, 3);
    expect(new Set(permutations(unsettled).map((order) => fold(order).status))).toEqual(new Set(['partially_paid']));
  });

  it('is never overdue, dunned or announced, where the same invoice open would be', () => {
    const row = fold([partially(NOW - DAY)]);
    const openRow = fold([open(NOW - DAY)]);
    expect(isOverdue(openRow, NOW)).toBe(true);
    expect(row.overdue).toBe(false);
    expect(isOverdue(row, NOW)).toBe(false);
    expect(planDunning(openRow, NOW, []).notice).not.toBeNull();
    expect(planDunning(row, NOW, [])).toEqual({ notice: null, nextCheckAt: null });
    const event: Pick<InvoiceSnapshot, 'eventType' | 'eventCreated' | 'fields'> = snapshotFromEvent(partially(NOW - DAY, { attempt_count: 2 }));
    expect(noticesForChange(null, row, event)).toEqual([]);
    expect(noticesForChange(null, row, { ...event, eventType: 'invoice.payment_failed' })).toEqual([]);
    expect(planNotices({ previous: null, next: row, event, mode: 'live' }, [], NOW, ALL_NOTICES).notices).toEqual([]);
    expect(planNotices({ previous: null, next: openRow, event: snapshotFromEvent(open(NOW - DAY)), mode: 'live' }, [], NOW, ALL_NOTICES).notices).not.toEqual([]);
  });

  it('leaves the invoice email for when the status is known again', () => {
    const row = fold([partially(NOW - DAY)]);
    const next = mergeInvoice(row, snapshotFromEvent(paid(NOW)), NOW);
    expect(noticesForChange(row, next, snapshotFromEvent(paid(NOW))).map((n) => n.kind)).toEqual(['invoice_issued', 'invoice_paid']);
  });

  it.each([
    ['overdue (the processor’s own word for an open invoice past due)', 'overdue', /status: 'overdue' is not a Stripe status/],
    ['not a Stripe enum value', 'Partially Paid', /status: must be a lowercase Stripe status name/],
    ['empty', '', /status: must be a lowercase Stripe status name/],
  ])('is refused when %s', (_name, status, message) => {
    expect(thrown(envelope('invoice.updated', { ...openInvoice(), status })).message).toMatch(message);
  });
});

describe('invoice.deleted marks the invoice deleted whatever its body says', () => {
  it.each<[string, Record<string, unknown>]>([
    ['a stub with a status outside the five', { id: 'in_1Strange', object: 'invoice', deleted: true, status: 'deleted' }],
    ['a full invoice with a status this code refuses', { ...draftInvoice({ id: 'in_1Strange' }), status: 'overdue' }],
    ['a body without amounts or currency', { id: 'in_1Strange', object: 'invoice', status: 'draft' }],
    ['an id alone', { id: 'in_1Strange' }],
  ])('%s: a deletion mark', (_name, body) => {
    expect(snapshotFromEvent(envelope('invoice.deleted', body))).toMatchObject({ stripeInvoiceId: 'in_1Strange', stub: true, deleted: true, fields: null });
  });

  it('a full invoice with a status Stripe added: its fields, deleted', () => {
    const snapshot = snapshotFromEvent(envelope('invoice.deleted', { ...draftInvoice({ id: 'in_1Strange' }), status: 'scheduled' }));
    expect(snapshot).toMatchObject({ stub: false, deleted: true, fields: { status: 'scheduled' } });
  });

  it('the same bodies in any other event are malformed', () => {
    expect(thrown(envelope('invoice.updated', { id: 'in_1Strange', object: 'invoice', status: 'draft' })).message).toMatch(/amount_due: missing/);
  });

  it('a body that names no invoice cannot mark one', () => {
    expect(thrown(envelope('invoice.deleted', { object: 'invoice', status: 'deleted' })).message).toMatch(/\bid: missing/);
    expect(thrown(envelope('invoice.deleted', { id: 'cus_1', object: 'customer' })).message).toMatch(/object/);
  });
});

describe('error texts say "missing" for a missing field', () => {
  const { currency: _currency, ...withoutCurrency } = openInvoice();

  it.each<[string, unknown, string]>([
    ['the currency', envelope('invoice.paid', withoutCurrency), 'invalid invoice in invoice.paid: currency: missing'],
    ['amount_due', envelope('invoice.paid', { ...openInvoice(), amount_due: undefined }), 'invalid invoice in invoice.paid: amount_due: missing'],
    ['the event created', { ...envelope('invoice.paid', openInvoice()), created: undefined }, 'not a Stripe event: created: missing'],
    ['data.object', { ...envelope('invoice.paid', openInvoice()), data: {} }, 'not a Stripe event: data.object: missing'],
  ])('%s', (_name, event, message) => {
    const error = thrown(JSON.parse(JSON.stringify(event)));
    expect(error.message).toBe(message);
    expect(error.retryable).toBe(false);
  });

  it('keeps saying what is wrong with a value that is there', () => {
    const message = thrown(envelope('invoice.paid', { ...openInvoice(), amount_due: '2500' })).message;
    expect(message).toMatch(/^invalid invoice in invoice\.paid: amount_due: /);
    expect(message).not.toMatch(/missing/);
    expect(thrown({ ...envelope('invoice.paid', openInvoice()), data: { object: [] } }).message).toBe('not a Stripe event: data.object: expected an object');
  });
});

describe('through the product: each event is stored, processed and merged into its row', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  const apply = (event: Record<string, unknown>, now: number) =>
    applyEvent(db.ds, JSON.stringify(event), { nowSeconds: () => now, effects: { notices: noticeEffects(ALL_NOTICES) } });
  /** Whether the event was recorded as processed, with no error left on it. */
  const processed = async (eventId: string) => {
    const [row] = await db.ds.query(`SELECT processed_at IS NOT NULL AS processed, last_error FROM stripe_events WHERE id = $1`, [eventId]);
    return row as { processed: boolean; last_error: string | null } | undefined;
  };
  const notices = async (invoiceId: string): Promise<string[]> =>
    (await db.ds.query(`SELECT kind FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY kind`, [invoiceId])).map((r: { kind: string }) => r.kind);

  it.each(LAYOUTS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const event = layoutEvent(c, `evt_layout_${c.apiVersion.replace(/\W/g, '_')}`);
    const result = await apply(event, (event['created'] as number) + 60);
    expect(result).toMatchObject({ outcome: 'merged', objectId: c.object['id'] });
    expect(await processed(event['id'] as string)).toEqual({ processed: true, last_error: null });
    expect(await findInvoice(db.ds.manager, c.object['id'] as string)).toMatchObject({ ...c.expected, deletedAt: null });
  });

  it('stores a status Stripe adds later as sent, processes its event, and announces nothing until it is known', async () => {
    const id = 'in_1PartiallyPaid';
    const due = NOW - 10 * DAY;
    const partially = envelope('invoice.updated', { ...openInvoice({ id, due_date: due, amount_paid: 1000, amount_remaining: 1500 }), status: 'partially_paid' }, NOW - 60, 'evt_partially_paid');
    expect(await apply(partially, NOW)).toMatchObject({ outcome: 'merged', objectId: id });
    expect(await processed('evt_partially_paid')).toEqual({ processed: true, last_error: null });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'partially_paid', amountPaidCents: 1000, amountRemainingCents: 1500, overdue: false });
    expect(await notices(id)).toEqual([]);

    const control = 'in_1OpenControl';
    await apply(envelope('invoice.finalized', openInvoice({ id: control, due_date: due }), NOW - 60, 'evt_open_control'), NOW);
    expect(await findInvoice(db.ds.manager, control)).toMatchObject({ status: 'open', overdue: true });
    expect(await notices(control)).not.toEqual([]);

    await apply(envelope('invoice.paid', pay(openInvoice({ id, due_date: due }), NOW - 30), NOW - 30, 'evt_partially_then_paid'), NOW);
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'paid', amountRemainingCents: 0 });
    expect(await notices(id)).toEqual(['invoice_issued', 'invoice_paid']);
  });

  it('marks a draft deleted from an invoice.deleted whose body has a status outside the five', async () => {
    const id = 'in_1DeletedStrange';
    await apply(envelope('invoice.created', draftInvoice({ id }), NOW - 120, 'evt_strange_created'), NOW);
    await apply(envelope('invoice.deleted', { id, object: 'invoice', deleted: true, status: 'deleted' }, NOW - 60, 'evt_strange_deleted'), NOW);
    expect(await processed('evt_strange_deleted')).toEqual({ processed: true, last_error: null });
    expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'draft', currency: 'eur', deletedAt: NOW - 60 });
  });

  it('a missing field fails the event with "missing" in its recorded error', async () => {
    const { currency: _currency, ...body } = openInvoice({ id: 'in_1NoCurrency' });
    await expect(apply(envelope('invoice.finalized', body, NOW - 60, 'evt_no_currency'), NOW)).rejects.toThrow('currency: missing');
    expect(await processed('evt_no_currency')).toEqual({ processed: false, last_error: expect.stringContaining('currency: missing') });
    expect(await findInvoice(db.ds.manager, 'in_1NoCurrency')).toBeNull();
  });

  it('the migration lets any status in; undone, it maps what the constraint refuses to open and puts the constraint back', async () => {
    const constraint = async () =>
      (await db.ds.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE conname = 'invoices_status_check'`))[0].n as number;
    expect(await constraint()).toBe(0);
    const id = 'in_1MigratedDown';
    await apply(envelope('invoice.updated', { ...openInvoice({ id }), status: 'scheduled' }, NOW - 60, 'evt_migrated_down'), NOW);
    await apply(envelope('invoice.voided', { ...openInvoice({ id: 'in_1KnownStays' }), status: 'void' }, NOW - 60, 'evt_known_stays'), NOW);
    const migration = new OpenEndedInvoiceStatus1765000000000();
    const runner = db.ds.createQueryRunner();
    try {
      await migration.down(runner);
      expect(await constraint()).toBe(1);
      expect(await findInvoice(db.ds.manager, id)).toMatchObject({ status: 'open' });
      expect(await findInvoice(db.ds.manager, 'in_1KnownStays')).toMatchObject({ status: 'void' });
      await expect(db.ds.query(`UPDATE invoices SET status = 'scheduled' WHERE stripe_invoice_id = $1`, [id])).rejects.toThrow(/invoices_status_check/);
      await migration.up(runner);
      expect(await constraint()).toBe(0);
    } finally {
      await runner.release();
    }
  });
});
