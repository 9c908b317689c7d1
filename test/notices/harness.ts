import pino from 'pino';
import type { DataSource } from 'typeorm';
import type { NoticeKind } from '../../src/billing/notice-kinds';
import { Mailer } from '../../src/mail/mailer';
import { smtpTransport } from '../../src/mail/transport';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startProcessor } from '../support/processor';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { depth, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, uid } from '../support/stripe-events';
import { eventId, mapLimit, postSigned, processedCount, resentAs, shuffle, type StripeEvent } from '../integration/helpers';
import { waitFor } from '../support/wait';

export const DAY = 86_400;
export const FROM = { name: 'Acme Billing', address: 'billing@acme.test' } as const;
export const wallNow = () => Math.floor(Date.now() / 1000);

/** One test file's world: its own database, a real SQS server, the real processor, a real SMTP server. */
export interface NoticeWorld {
  db: TestDatabase;
  sqs: TestSqs;
  smtp: SmtpSink;
  processor: Awaited<ReturnType<typeof startProcessor>>;
  /** Restarts the processor with other settings (e.g. NOTICE_KINDS) on the same database and queue. */
  restartProcessor(env: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/** The time-based sweep of the processor runs on its own clock; tests drive sweepInvoices themselves. */
const QUIET_SWEEP = { OVERDUE_SWEEP_INTERVAL_SECONDS: '86400' };

export async function startNoticeWorld(env: Record<string, string> = {}): Promise<NoticeWorld> {
  const db = await createTestDatabase();
  const sqs = await startTestSqs();
  const smtp = await startSmtpSink();
  const startOne = (extra: Record<string, string>) =>
    startProcessor({ databaseUrl: db.url, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl, endpoint: sqs.endpoint, env: { ...QUIET_SWEEP, ...extra } });
  const world: NoticeWorld = {
    db,
    sqs,
    smtp,
    processor: await startOne(env),
    restartProcessor: async (next) => {
      await world.processor.stop();
      world.processor = await startOne(next);
    },
    close: async () => {
      await world.processor?.stop();
      await sqs.stop();
      await smtp.close();
      await db.drop();
    },
  };
  return world;
}

export interface TestMailerOptions {
  now?: () => number;
  maxAttempts?: number;
  maxBackoffSeconds?: number;
  concurrency?: number;
  smtpUrl?: string;
  from?: { name: string | null; address: string };
  /**
   * RECEIPT_WAIT_SECONDS. 0 unless a test is about the receipt link: the others' paid invoices have
   * no charge, and their receipts would otherwise wait for one.
   */
  receiptWaitSeconds?: number;
}

/** The real Mailer over real SMTP, with the clock in the test's hands. Call stop() to close the transport. */
export function testMailer(ds: DataSource, smtpUrl: string, o: Omit<TestMailerOptions, 'smtpUrl'> = {}): Mailer {
  return new Mailer({
    ds,
    transport: smtpTransport(smtpUrl),
    logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' }),
    from: o.from ?? { ...FROM },
    maxAttempts: o.maxAttempts ?? 10,
    maxBackoffSeconds: o.maxBackoffSeconds ?? 300,
    concurrency: o.concurrency ?? 2,
    pollIntervalMs: 50,
    receiptWaitSeconds: o.receiptWaitSeconds ?? 0,
    nowSeconds: o.now,
  });
}

/** Runs one mailer pass to completion (everything due at its clock) and closes its connection. */
export async function drainOnce(ds: DataSource, smtpUrl: string, o: TestMailerOptions = {}): Promise<number> {
  const mailer = testMailer(ds, o.smtpUrl ?? smtpUrl, o);
  try {
    return await mailer.drain();
  } finally {
    await mailer.stop();
  }
}

/**
 * Posts every delivery (duplicates included) as signed webhooks, then waits until each distinct
 * event is processed and the queue is empty, so that what follows sees the outbox as it settles.
 */
export async function deliverAll(world: NoticeWorld, deliveries: readonly StripeEvent[]): Promise<void> {
  const answers = await mapLimit(deliveries, 8, (e) => postSigned(world.processor.baseUrl, e));
  expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  const ids = [...new Set(deliveries.map(eventId))];
  await waitFor(`${ids.length} events processed`, async () => (await processedCount(world.db.ds, ids)) === ids.length, 45_000);
  await waitFor('the queue to drain', async () => (await depth(world.sqs.client, world.sqs.queueUrl)) === 0, 30_000);
}

/** Stripe at its worst: every event three times, each also re-sent under a second id, all shuffled. */
export function noisy(events: readonly StripeEvent[], random: () => number): StripeEvent[] {
  const out: StripeEvent[] = [];
  for (const e of events) out.push(e, e, e, resentAs(e));
  return shuffle(out, random);
}

/** The same events (same ids) with fields of the invoice replaced, e.g. the customer's email. */
export function withFields(events: readonly StripeEvent[], fields: Record<string, unknown>): StripeEvent[] {
  return events.map((e) => {
    const copy = structuredClone(e);
    const data = copy['data'] as { object: Record<string, unknown> };
    data.object = { ...data.object, ...fields };
    return copy;
  });
}

export interface OpenInvoice {
  id?: string;
  customer?: string;
  customerEmail?: string | null;
  customerName?: string | null;
  amount?: number;
  currency?: string;
  dueDate?: number | null;
  finalizedAt?: number;
  collectionMethod?: 'send_invoice' | 'charge_automatically';
  number?: string;
  hostedInvoiceUrl?: string | null;
  invoicePdf?: string | null;
}

/** The Stripe invoice object of an open (finalized) invoice. */
export function openInvoice(o: OpenInvoice = {}): Record<string, unknown> {
  const id = o.id ?? uid('in');
  const amount = o.amount ?? 1234;
  const finalizedAt = o.finalizedAt ?? wallNow() - 60;
  return invoice({
    id,
    customer: o.customer ?? uid('cus'),
    customer_email: o.customerEmail === undefined ? `ap+${id.slice(-8)}@customer.test` : o.customerEmail,
    customer_name: o.customerName === undefined ? 'Jane Customer' : o.customerName,
    status: 'open',
    number: o.number ?? `INV-${id.slice(-6).toUpperCase()}`,
    amount_due: amount,
    amount_paid: 0,
    amount_remaining: amount,
    total: amount,
    currency: o.currency ?? 'usd',
    collection_method: o.collectionMethod ?? (o.dueDate ? 'send_invoice' : 'charge_automatically'),
    due_date: o.dueDate ?? null,
    hosted_invoice_url: o.hostedInvoiceUrl === undefined ? `https://invoice.stripe.com/i/${id}` : o.hostedInvoiceUrl,
    invoice_pdf: o.invoicePdf === undefined ? `https://pay.stripe.com/invoice/${id}/pdf` : o.invoicePdf,
    attempt_count: 0,
    created: finalizedAt - 60,
    status_transitions: { finalized_at: finalizedAt, paid_at: null, voided_at: null, marked_uncollectible_at: null },
  });
}

/** invoice.finalized for an open invoice. */
export function finalizedEvent(inv: Record<string, unknown>, created = wallNow()): StripeEvent {
  return event('invoice.finalized', inv, { created });
}

/** invoice.paid for the same invoice, settled in full at `paidAt`. */
export function paidEvent(inv: Record<string, unknown>, paidAt = wallNow()): StripeEvent {
  const transitions = inv['status_transitions'] as Record<string, unknown>;
  const paid = { ...inv, status: 'paid', amount_paid: inv['amount_due'], amount_remaining: 0, status_transitions: { ...transitions, paid_at: paidAt } };
  return event('invoice.paid', paid, { created: paidAt });
}

export interface NoticeRow {
  id: string;
  stripe_invoice_id: string;
  kind: NoticeKind;
  sequence: number;
  /** Empty but for refund notices: what the notice is about. */
  subject: string;
  /** What a refund notice tells was refunded. */
  amount_cents: number | null;
  status: string;
  recipient: string | null;
  attempts: number;
  last_error: string | null;
  message_id: string | null;
  created_at: number;
  next_attempt_at: number;
}

/** The outbox rows of some invoices, in a stable order. */
export async function noticeRows(ds: DataSource, invoiceIds: readonly string[]): Promise<NoticeRow[]> {
  const rows: NoticeRow[] = await ds.query(
    `SELECT id, stripe_invoice_id, kind, sequence, subject, amount_cents::int AS amount_cents, status, recipient, attempts, last_error, message_id,
            extract(epoch from created_at)::bigint AS created_at, extract(epoch from next_attempt_at)::bigint AS next_attempt_at
       FROM email_notices WHERE stripe_invoice_id = ANY($1::text[])
      ORDER BY stripe_invoice_id, created_at, kind, sequence, subject`,
    [invoiceIds],
  );
  return rows.map((r) => ({ ...r, created_at: Number(r.created_at), next_attempt_at: Number(r.next_attempt_at) }));
}

/** `kind#sequence status`, the shape most assertions compare. */
export const summary = (rows: readonly NoticeRow[]) => rows.map((r) => `${r.kind}#${r.sequence} ${r.status}`).sort();

/** The Message-ID the mailer promises for a row; a refund notice's names its subject (`:` percent-encoded). */
export const expectedMessageId = (r: Pick<NoticeRow, 'id' | 'kind' | 'sequence' | 'stripe_invoice_id'> & { subject?: string }, domain = 'acme.test') =>
  `<notice-${r.id}.${r.kind}.${r.sequence}.${r.stripe_invoice_id}${r.subject ? `.${r.subject.replace(/:/g, '%3A')}` : ''}@${domain}>`;

/** One world per test file, its SMTP inbox emptied before each test; read it through the getter. */
export function useNoticeWorld(env: Record<string, string> = {}): () => NoticeWorld {
  let world: NoticeWorld | undefined;
  beforeAll(async () => {
    world = await startNoticeWorld(env);
  });
  afterAll(async () => {
    await world?.close();
  });
  beforeEach(() => world!.smtp.clear());
  return () => world!;
}
