// The Lambda functions write the same metrics as CloudWatch embedded metric format (EMF) lines on
// stdout, which CloudWatch Logs turns into metrics: captured here as Lambda's log stream would.
import { consumerHandler } from '../../src/lambda/consumer';
import { mailerHandler } from '../../src/lambda/mailer';
import { LambdaRuntime } from '../../src/lambda/runtime';
import { sweepHandler } from '../../src/lambda/sweep';
import { webhookHandler } from '../../src/lambda/webhook';
import { LambdaMetrics } from '../../src/metrics/lambda-metrics';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { sendRaw, startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { captureLogs, httpApiEvent, lambdaContext, noAwsStores, receiveBatch, scheduledEvent, settleLikeLambda, takeAll } from '../lambda/events';

interface Emf {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

/** The EMF blobs written to stdout while `fn` runs (everything else on stdout is let through). */
async function emfDuring<T>(fn: () => Promise<T>): Promise<{ result: T; blobs: Emf[] }> {
  const blobs: Emf[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n').filter(Boolean)) {
      try {
        const parsed = JSON.parse(line) as Emf;
        if (parsed._aws) {
          blobs.push(parsed);
          continue;
        }
      } catch {
        // not JSON: someone else's output
      }
      write(`${line}\n`);
    }
    return true;
  }) as typeof process.stdout.write);
  try {
    const result = await fn();
    return { result, blobs };
  } finally {
    spy.mockRestore();
  }
}

/** A blob as its point of view: its namespace, its one dimension set with values, its metrics with unit and value. */
function summary(b: Emf) {
  const cw = b._aws.CloudWatchMetrics;
  expect(cw).toHaveLength(1);
  // One dimension set per blob: EMF applies it to every metric in the blob.
  expect(cw[0]!.Dimensions).toHaveLength(1);
  const dims = Object.fromEntries(cw[0]!.Dimensions[0]!.map((d) => [d, b[d]]));
  const metrics = Object.fromEntries(cw[0]!.Metrics.map((m) => [m.Name, { unit: m.Unit, value: b[m.Name] }]));
  return { namespace: cw[0]!.Namespace, dims, metrics };
}

let db: TestDatabase;
let sqs: TestSqs;
let smtp: SmtpSink;
let rt: LambdaRuntime;

beforeAll(async () => {
  db = await createTestDatabase(3);
  sqs = await startTestSqs({ maxReceiveCount: 3, visibilityTimeoutSeconds: 1 });
  smtp = await startSmtpSink();
  rt = new LambdaRuntime({
    env: {
      AWS_REGION: 'us-east-1',
      DATABASE_URL: db.url,
      SQS_QUEUE_URL: sqs.queueUrl,
      SQS_DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      STRIPE_WEBHOOK_SECRET: TEST_SECRET,
      WEBHOOK_MAX_BODY_BYTES: String(64 * 1024),
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Acme Billing <billing@acme.test>',
      NOTICE_KINDS: 'invoice_issued',
      LOG_LEVEL: 'info',
    },
    stores: noAwsStores,
    logDestination: captureLogs().destination,
  });
});
afterAll(async () => {
  await rt?.close();
  await smtp?.close();
  await sqs?.stop();
  await db?.drop();
});

const SERVICE = { service: 'stripe-billing' };

describe('the webhook function', () => {
  const invoke = (body: string, signature: string) => webhookHandler(rt)(httpApiEvent(body, { 'stripe-signature': signature }), lambdaContext('webhook'));

  it.each([
    ['enqueued', 200, () => JSON.stringify(event('invoice.finalized', invoice({ id: uid('in') }))), TEST_SECRET],
    ['rejected', 400, () => JSON.stringify(event('invoice.finalized', invoice({ id: uid('in') }))), 'whsec_someone_elses_secret_0123456789'],
    ['ignored', 200, () => JSON.stringify(event('product.created', { id: uid('prod'), object: 'product' })), TEST_SECRET],
    ['too_large', 413, () => JSON.stringify(event('invoice.updated', invoice({ id: uid('in'), metadata: { pad: 'x'.repeat(70 * 1024) } }))), TEST_SECRET],
  ])('writes one blob counting the %s answer by outcome, and one with its duration', async (outcome, status, body, secret) => {
    const payload = body();
    const { result, blobs } = await emfDuring(() => invoke(payload, sign(payload, secret)));
    expect(result.statusCode).toBe(status);
    const [counted, timed] = blobs.map(summary);
    expect(blobs).toHaveLength(2);
    expect(counted).toEqual({
      namespace: 'StripeBilling',
      dims: { ...SERVICE, outcome },
      metrics: { billing_webhook_requests_total: { unit: 'Count', value: 1 } },
    });
    expect(timed).toMatchObject({ namespace: 'StripeBilling', dims: SERVICE, metrics: { billing_webhook_duration_seconds: { unit: 'Seconds' } } });
    const seconds = timed!.metrics['billing_webhook_duration_seconds']!.value as number;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(10);
    await takeAll(sqs.client, sqs.queueUrl);
  });
});

describe('the consumer, mailer and sweep functions', () => {
  it('count events by object and outcome, each combination in a blob of its own, and the lag of those applied', async () => {
    const now = Math.floor(Date.now() / 1000);
    const id = uid('in');
    const open = invoice({ id, customer: uid('cus'), customer_email: `payer-${uid('c')}@example.com`, status: 'open', collection_method: 'send_invoice', due_date: now + 14 * 86_400, status_transitions: { finalized_at: now - 3, paid_at: null, voided_at: null, marked_uncollectible_at: null } });
    const finalized = JSON.stringify(event('invoice.finalized', open, { created: now - 3 }));
    await sendRaw(sqs.client, sqs.queueUrl, finalized);
    await sendRaw(sqs.client, sqs.queueUrl, finalized);
    await sendRaw(sqs.client, sqs.queueUrl, '{"id": "evt_cut_short", "type": "invoice.paid", "data": {');
    const batch = await receiveBatch(sqs.client, sqs.queueUrl, 3);
    const { result, blobs } = await emfDuring(() => consumerHandler(rt)(batch, lambdaContext('consumer')));
    expect(result.batchItemFailures).toHaveLength(1);
    await settleLikeLambda(sqs.client, sqs.queueUrl, batch, result);

    const byDims = new Map(blobs.map(summary).map((s) => [JSON.stringify(s.dims), s]));
    expect(blobs).toHaveLength(4);
    expect(byDims.get(JSON.stringify({ ...SERVICE, object: 'invoice', outcome: 'applied' }))!.metrics).toEqual({ billing_events_applied_total: { unit: 'Count', value: 1 } });
    expect(byDims.get(JSON.stringify({ ...SERVICE, object: 'invoice', outcome: 'duplicate' }))!.metrics).toEqual({ billing_events_applied_total: { unit: 'Count', value: 1 } });
    expect(byDims.get(JSON.stringify({ ...SERVICE, object: 'unknown', outcome: 'malformed' }))!.metrics).toEqual({ billing_events_applied_total: { unit: 'Count', value: 1 } });
    const lag = byDims.get(JSON.stringify(SERVICE))!.metrics['billing_event_lag_seconds']!;
    expect(lag.unit).toBe('Seconds');
    expect(lag.value).toBeGreaterThanOrEqual(3);
    expect(lag.value).toBeLessThan(30);
  });

  it('count the notices the mailer settled, and sample the outbox at the end of each run', async () => {
    const { result, blobs } = await emfDuring(() => mailerHandler(rt)(scheduledEvent('stripe-billing-test-mailer'), lambdaContext('mailer')));
    expect(result.sent).toBe(1);
    expect(blobs.map(summary)).toEqual([
      { namespace: 'StripeBilling', dims: { ...SERVICE, kind: 'invoice_issued', outcome: 'sent' }, metrics: { billing_notices_total: { unit: 'Count', value: 1 } } },
      { namespace: 'StripeBilling', dims: SERVICE, metrics: { billing_outbox_oldest_pending_seconds: { unit: 'Seconds', value: 0 } } },
    ]);
  });

  it('count a sweep run', async () => {
    const { blobs } = await emfDuring(() => sweepHandler(rt)(scheduledEvent('stripe-billing-test-sweep'), lambdaContext('sweep')));
    expect(blobs.map(summary)).toEqual([{ namespace: 'StripeBilling', dims: SERVICE, metrics: { billing_sweep_runs_total: { unit: 'Count', value: 1 } } }]);
  });

  it('write nothing for an invocation that counted nothing, and a second flush repeats nothing', async () => {
    const { blobs } = await emfDuring(async () => {
      rt.metrics().flush();
      rt.metrics().flush();
    });
    expect(blobs).toEqual([]);
  });
});

describe('LambdaMetrics', () => {
  it('takes its namespace and service from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME', async () => {
    const other = new LambdaRuntime({ env: { POWERTOOLS_METRICS_NAMESPACE: 'Billing/Staging', POWERTOOLS_SERVICE_NAME: 'billing-staging' }, stores: noAwsStores, logDestination: captureLogs().destination });
    const { blobs } = await emfDuring(async () => {
      other.metrics().sweepRun();
      other.metrics().flush();
    });
    expect(blobs.map(summary)).toEqual([{ namespace: 'Billing/Staging', dims: { service: 'billing-staging' }, metrics: { billing_sweep_runs_total: { unit: 'Count', value: 1 } } }]);
  });

  it("sums counts per label values, and splits observations into blobs below Powertools' own flush at 100 values", async () => {
    const m = new LambdaMetrics();
    const { blobs } = await emfDuring(async () => {
      for (let i = 0; i < 150; i++) m.eventApplied('invoice', i % 3 === 0 ? 'unchanged' : 'applied', i / 10);
      m.eventApplied('charge', 'failed');
      m.flush();
    });
    const s = blobs.map(summary);
    expect(s.filter((b) => 'outcome' in b.dims).map((b) => [b.dims, b.metrics['billing_events_applied_total']!.value])).toEqual([
      [{ ...SERVICE, object: 'invoice', outcome: 'unchanged' }, 50],
      [{ ...SERVICE, object: 'invoice', outcome: 'applied' }, 100],
      [{ ...SERVICE, object: 'charge', outcome: 'failed' }, 1],
    ]);
    const lags = s.filter((b) => !('outcome' in b.dims)).map((b) => b.metrics['billing_event_lag_seconds']!.value as number[]);
    expect(lags.map((l) => l.length)).toEqual([99, 51]);
    expect(lags.flat()).toEqual(Array.from({ length: 150 }, (_, i) => i / 10));
  });
});
