import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as yauzl from 'yauzl';
import { MIGRATIONS } from '../../migrations';
import { signPortalToken } from '../../src/billing-page/token';
import { createDataSource } from '../../src/db/data-source';
import { findInvoice } from '../../src/db/invoices';
import { kindOfEvent, OBJECT_KINDS } from '../../src/stripe-objects/registry';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, uid } from '../support/stripe-events';
import { startSecretsServer, type SecretsServer } from './aws-secrets-server';
import { createEmptyDatabase } from './empty-database';
import { httpApiEvent, receiveBatch, scheduledEvent, settleLikeLambda } from './events';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const FUNCTIONS = ['webhook', 'consumer', 'sweep', 'mailer', 'migrate'] as const;
type FunctionName = (typeof FUNCTIONS)[number];
/** The billing pages' function: its own, with its handler exported beside the webhook's. */
const PAGE_FUNCTION = 'billingPage';

/**
 * `npm run package` as CI runs it (offline, no AWS credentials), then each handler loaded from its
 * own zip in a separate Node process: the bundles carry everything they require. Set LAMBDA_NODE
 * to a Node binary of the Lambda runtime's major version (22) to run them on that one too.
 */
jest.setTimeout(240_000);

async function unzip(zipPath: string, dir: string): Promise<string[]> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true });
  const names: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      zip.on('error', reject);
      zip.on('end', resolve);
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = path.join(dir, entry.fileName);
        if (!target.startsWith(dir + path.sep)) return reject(new Error(`zip entry outside the target: ${entry.fileName}`));
        names.push(entry.fileName);
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        void (async () => {
          await fs.mkdir(path.dirname(target), { recursive: true });
          await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
          zip.readEntry();
        })().catch(reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
  return names.sort();
}

/** AWS settings of the machine running the tests must not leak in: packaging needs none. */
function withoutAws(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('SLS_')));
  return { ...clean, AWS_EC2_METADATA_DISABLED: 'true' };
}

interface Template {
  Conditions: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, any> }>;
}

let work: string;
let artifacts: string;
let template: Template;
let listings: Record<FunctionName | typeof PAGE_FUNCTION, string[]>;

beforeAll(async () => {
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'billing-lambda-package-'));
  artifacts = path.join(work, 'artifacts');
  await run('npm', ['run', 'package', '--', '--package', artifacts], { cwd: ROOT, env: withoutAws(process.env), maxBuffer: 16 * 1024 * 1024 });
  template = JSON.parse(await fs.readFile(path.join(artifacts, 'cloudformation-template-update-stack.json'), 'utf8')) as Template;
  listings = {} as typeof listings;
  for (const fn of [...FUNCTIONS, PAGE_FUNCTION] as const) listings[fn] = await unzip(path.join(artifacts, `${fn}.zip`), path.join(work, fn));
});
afterAll(async () => {
  if (work) await fs.rm(work, { recursive: true, force: true });
});

const resourcesOf = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
const fnResource = (fn: FunctionName) => template.Resources[`${fn[0]!.toUpperCase()}${fn.slice(1)}LambdaFunction`]!;

describe('the EventBridge rule', () => {
  it("forwards the events of every kind the registry keeps, and only those objects", () => {
    const pattern = template.Resources['StripeEventBridgeRule']!.Properties['EventPattern'];
    const prefixes = (pattern['detail-type'] as Array<{ prefix: string }>).map((p) => p.prefix).sort();
    // A kind's events are listed under its pattern, or under another kind's (charge.refund.updated under charge.*).
    const needed = OBJECT_KINDS.flatMap((k) => k.eventTypes).map((t) => prefixes.find((p) => t.startsWith(p)) ?? t);
    expect(needed.filter((t) => !prefixes.includes(t))).toEqual([]);
    expect(prefixes).toEqual([...new Set(OBJECT_KINDS.map((k) => k.eventPattern.replace(/\*$/, '')))].sort());
    expect([...pattern.detail.data.object.object].sort()).toEqual(OBJECT_KINDS.map((k) => k.object).sort());
    // Previews share the invoice's prefix and object but are carried by no kind.
    expect(pattern.detail.type).toEqual([{ 'anything-but': ['invoice.upcoming'] }]);
    expect(kindOfEvent('invoice.upcoming')).toBeNull();
  });
});

describe('npm run package', () => {
  it('bundles each function into one file; only the mailer carries its templates; no node_modules', () => {
    expect(listings.webhook).toEqual(['handlers/webhook.js']);
    expect(listings.consumer).toEqual(['handlers/consumer.js']);
    expect(listings.sweep).toEqual(['handlers/sweep.js']);
    expect(listings.migrate).toEqual(['handlers/migrate.js']);
    expect(listings.mailer).toContain('handlers/mailer.js');
    expect(listings.mailer).toContain('src/mail/templates/invoice_issued.html');
    expect(listings.mailer.every((f) => f === 'handlers/mailer.js' || f.startsWith('src/mail/templates/'))).toBe(true);
  });

  it('describes the queue, the DLQ and the consumer as the issue asks', () => {
    const queue = template.Resources['EventsQueue']!.Properties;
    const dlq = template.Resources['EventsDeadLetterQueue']!.Properties;
    const consumer = fnResource('consumer').Properties;
    const [, mapping] = resourcesOf('AWS::Lambda::EventSourceMapping')[0]!;
    expect(queue['MaximumMessageSize']).toBe(1048576);
    expect(queue['FifoQueue']).toBeUndefined();
    expect(queue['RedrivePolicy']).toMatchObject({ maxReceiveCount: 5, deadLetterTargetArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
    expect(queue['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * consumer['Timeout'] + mapping.Properties['MaximumBatchingWindowInSeconds']);
    expect(dlq['MessageRetentionPeriod']).toBe(14 * 86_400);
    expect(dlq['RedriveAllowPolicy']).toMatchObject({ redrivePermission: 'byQueue' });
    expect(queue['MessageRetentionPeriod']).toBeLessThan(dlq['MessageRetentionPeriod']);
    expect(mapping.Properties).toMatchObject({
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: expect.any(Number) },
      EventSourceArn: { 'Fn::GetAtt': ['EventsQueue', 'Arn'] },
    });
    expect(mapping.Properties['MaximumBatchingWindowInSeconds']).toBeGreaterThan(0);
    // The consumer marks an event dead-lettered on its last receive: it must know the queue's limit.
    expect(consumer['Environment']['Variables']['SQS_MAX_RECEIVE_COUNT']).toBe(String(queue['RedrivePolicy']['maxReceiveCount']));
    const alarm = template.Resources['DeadLetterQueueAlarm']!;
    expect(alarm.Properties).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 0 });
    expect(alarm.Properties['Dimensions'][0].Value).toEqual({ 'Fn::GetAtt': ['EventsDeadLetterQueue', 'QueueName'] });
    expect(template.Resources['StripeEventBridgeRule']!.Condition).toBe('HasStripeEventBridge');
  });

  it('runs every function on nodejs22.x with its own role, the webhook behind POST /webhooks/stripe, schedules for the rest', () => {
    for (const fn of FUNCTIONS) {
      const props = fnResource(fn).Properties;
      expect(props['Runtime']).toBe('nodejs22.x');
      expect(props['Role']).toEqual({ 'Fn::GetAtt': [`${fn[0]!.toUpperCase()}${fn.slice(1)}Role`, 'Arn'] });
      expect(props['Handler']).toBe(`handlers/${fn}.handler`);
    }
    expect(template.Resources['IamRoleLambdaExecution']).toBeUndefined();
    expect(fnResource('webhook').Properties['VpcConfig']).toBeUndefined();
    for (const fn of ['consumer', 'sweep', 'mailer', 'migrate'] as const) expect(fnResource(fn).Properties['VpcConfig']).toBeDefined();
    const routes = resourcesOf('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties['RouteKey']);
    expect(routes.sort()).toEqual(['GET /billing/{token}', 'POST /webhooks/stripe']);
    const schedules = resourcesOf('AWS::Events::Rule')
      .filter(([, r]) => r.Properties['ScheduleExpression'])
      .map(([, r]) => r.Properties['ScheduleExpression'])
      .sort();
    expect(schedules).toEqual(['rate(1 minute)', 'rate(5 minutes)']);
  });

  it('serves the billing pages from a function of their own: in the VPC, behind a throttled GET /billing/{token}', () => {
    const props = template.Resources['BillingPageLambdaFunction']!.Properties;
    expect(props['Handler']).toBe('handlers/billing-page.handler');
    expect(props['Runtime']).toBe('nodejs22.x');
    expect(props['Role']).toEqual({ 'Fn::GetAtt': ['BillingPageRole', 'Arn'] });
    expect(props['VpcConfig']).toBeDefined();
    expect(props['Environment']['Variables']).toMatchObject({
      PORTAL_SIGNING_SECRET_PARAMETER: '/stripe-billing/ci/portal-signing-secret',
      PORTAL_FRAME_ANCESTORS: 'none',
      DATABASE_PREPARED_STATEMENTS: 'false',
    });
    expect(props['Environment']['Variables']['PORTAL_SIGNING_SECRET']).toBeUndefined();
    // The templates and stylesheet travel beside the bundle; nothing else does.
    expect(listings.billingPage).toContain('handlers/billing-page.js');
    expect(listings.billingPage).toContain('src/billing-page/templates/page.mustache');
    expect(listings.billingPage).toContain('src/billing-page/templates/billing-page.css');
    expect(listings.billingPage.every((f) => f === 'handlers/billing-page.js' || f.startsWith('src/billing-page/templates/'))).toBe(true);
    const [, route] = resourcesOf('AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties['RouteKey'] === 'GET /billing/{token}')!;
    expect(JSON.stringify(route.Properties['Target'])).toContain('HttpApiIntegrationBillingPage');
    const stage = template.Resources['HttpApiStage'] as unknown as { DependsOn: string[]; Properties: Record<string, any> };
    expect(stage.Properties['RouteSettings']['GET /billing/{token}']).toEqual({ ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) });
    expect(stage.DependsOn).toContain('HttpApiRouteGetBillingTokenVar');
    const actions = JSON.stringify(template.Resources['BillingPageRole']!.Properties['Policies']);
    expect(actions).toContain('portal-signing-secret');
    expect(actions).not.toMatch(/sqs:/);
  });

  it('grants each role only what its function calls, and puts no secret into the template', async () => {
    const actionsOf = (role: string): string[] =>
      JSON.stringify(template.Resources[role]!.Properties['Policies'])
        .match(/"(?:logs|sqs|ssm|secretsmanager|kms|ec2):[A-Za-z]+"/g)!
        .map((a) => a.slice(1, -1))
        .filter((a, i, all) => all.indexOf(a) === i)
        .sort();
    expect(actionsOf('WebhookRole')).toEqual(['kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:SendMessage', 'ssm:GetParameter']);
    expect(actionsOf('ConsumerRole')).not.toContain('sqs:SendMessage');
    expect(actionsOf('ConsumerRole')).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'secretsmanager:GetSecretValue']));
    expect(actionsOf('SweepRole').filter((a) => !a.startsWith('ec2:'))).toEqual(['kms:Decrypt', 'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:GetSecretValue']);
    expect(actionsOf('MailerRole')).not.toContain('sqs:ReceiveMessage');
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/whsec_|sk_live|sk_test|smtps?:\/\/|postgres(ql)?:\/\//);
  });
});

describe('alarms and the dashboard', () => {
  // Every alarm notifies the alarmTopicArn parameter's topic (empty in the ci stage) when set, both ways.
  const TOPIC = { 'Fn::If': ['HasAlarmTopic', [''], { Ref: 'AWS::NoValue' }] };
  const ALARMS: Record<string, { namespace: string; metric: string; dimension: [string, unknown]; statistic: string; period: number; threshold: number }> = {
    DeadLetterQueueAlarm: { namespace: 'AWS/SQS', metric: 'ApproximateNumberOfMessagesVisible', dimension: ['QueueName', { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'QueueName'] }], statistic: 'Maximum', period: 300, threshold: 0 },
    EventsQueueAgeAlarm: { namespace: 'AWS/SQS', metric: 'ApproximateAgeOfOldestMessage', dimension: ['QueueName', { 'Fn::GetAtt': ['EventsQueue', 'QueueName'] }], statistic: 'Maximum', period: 60, threshold: 300 },
    ConsumerErrorsAlarm: { namespace: 'AWS/Lambda', metric: 'Errors', dimension: ['FunctionName', { Ref: 'ConsumerLambdaFunction' }], statistic: 'Sum', period: 300, threshold: 0 },
    ConsumerThrottlesAlarm: { namespace: 'AWS/Lambda', metric: 'Throttles', dimension: ['FunctionName', { Ref: 'ConsumerLambdaFunction' }], statistic: 'Sum', period: 300, threshold: 0 },
    MailerErrorsAlarm: { namespace: 'AWS/Lambda', metric: 'Errors', dimension: ['FunctionName', { Ref: 'MailerLambdaFunction' }], statistic: 'Sum', period: 300, threshold: 0 },
    MailerThrottlesAlarm: { namespace: 'AWS/Lambda', metric: 'Throttles', dimension: ['FunctionName', { Ref: 'MailerLambdaFunction' }], statistic: 'Sum', period: 300, threshold: 0 },
    // The webhook is fronted by the HTTP API (API Gateway v2), whose 5xx counts the function's own 5xx answers and its failures.
    WebhookServerErrorsAlarm: { namespace: 'AWS/ApiGateway', metric: '5xx', dimension: ['ApiId', { Ref: 'HttpApi' }], statistic: 'Sum', period: 300, threshold: 0 },
  };
  // The embedded metrics the functions emit (the names /metrics serves), in one namespace.
  const EMBEDDED = [
    'billing_webhook_requests_total',
    'billing_webhook_duration_seconds',
    'billing_events_applied_total',
    'billing_event_lag_seconds',
    'billing_notices_total',
    'billing_outbox_oldest_pending_seconds',
    'billing_sweep_runs_total',
  ];

  it('alarms on the DLQ, the queue falling behind, consumer and mailer errors and throttles, and webhook 5xx; each notifies the topic', () => {
    expect(resourcesOf('AWS::CloudWatch::Alarm').map(([name]) => name).sort()).toEqual(Object.keys(ALARMS).sort());
    expect(template.Conditions['HasAlarmTopic']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    for (const [name, want] of Object.entries(ALARMS)) {
      const p = template.Resources[name]!.Properties;
      expect({ name, ...p }).toMatchObject({
        name,
        Namespace: want.namespace,
        MetricName: want.metric,
        Dimensions: [{ Name: want.dimension[0], Value: want.dimension[1] }],
        Statistic: want.statistic,
        Period: want.period,
        EvaluationPeriods: 1,
        Threshold: want.threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: TOPIC,
        OKActions: TOPIC,
      });
      expect(p['AlarmName']).toMatch(/^stripe-billing-ci-[a-z0-9-]+$/);
      expect(p['AlarmDescription']).toEqual(expect.any(String));
    }
    // Each dimension names a resource of this stack.
    for (const want of Object.values(ALARMS)) {
      const ref = want.dimension[1] as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      expect(template.Resources[ref.Ref ?? ref['Fn::GetAtt']![0]]).toBeDefined();
    }
  });

  /** The body as CloudFormation delivers it: each ${…} of the Fn::Sub replaced, here by a stand-in. */
  function dashboardBody(): { body: any; substituted: string[] } {
    const dashboards = resourcesOf('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const sub = dashboards[0]![1].Properties['DashboardBody']['Fn::Sub'];
    expect(typeof sub).toBe('string');
    const substituted: string[] = [];
    const text = (sub as string).replace(/\$\{([^}]+)\}/g, (_, name: string) => {
      substituted.push(name);
      return name.startsWith('AWS::') ? `pseudo-${name.slice(5)}` : `resolved-${name.replace('.', '-')}`;
    });
    return { body: JSON.parse(text), substituted };
  }

  it('one dashboard whose body, substituted, is JSON naming every alarm, the AWS metrics alarmed on and every embedded metric', () => {
    const { body, substituted } = dashboardBody();
    // Only the stack's own resources and pseudo parameters are substituted: nothing is left for Serverless to resolve.
    for (const name of substituted) {
      if (name.startsWith('AWS::')) expect(['AWS::Region', 'AWS::AccountId', 'AWS::Partition']).toContain(name);
      else expect({ name, defined: template.Resources[name.split('.')[0]!] !== undefined }).toEqual({ name, defined: true });
    }
    const widgets: any[] = body.widgets;
    const alarmsShown = widgets.filter((w) => w.type === 'alarm').flatMap((w) => w.properties.alarms);
    expect(alarmsShown.sort()).toEqual(Object.keys(ALARMS).map((a) => `resolved-${a}-Arn`).sort());

    const graphs = widgets.filter((w) => w.type === 'metric');
    for (const w of graphs) {
      expect(w.properties.region).toBe('pseudo-Region');
      expect(w.properties.title).toEqual(expect.any(String));
    }
    const rows: any[][] = graphs.flatMap((w) => w.properties.metrics);
    const plain = rows.filter((r) => typeof r[0] === 'string').map((r) => r.filter((x) => typeof x === 'string').join(' '));
    for (const line of [
      'AWS/SQS ApproximateNumberOfMessagesVisible QueueName resolved-EventsDeadLetterQueue-QueueName',
      'AWS/SQS ApproximateAgeOfOldestMessage QueueName resolved-EventsQueue-QueueName',
      'AWS/Lambda Errors FunctionName resolved-ConsumerLambdaFunction',
      'AWS/Lambda Throttles FunctionName resolved-ConsumerLambdaFunction',
      'AWS/Lambda Errors FunctionName resolved-MailerLambdaFunction',
      'AWS/Lambda Throttles FunctionName resolved-MailerLambdaFunction',
      'AWS/ApiGateway 5xx ApiId resolved-HttpApi',
    ]) {
      expect(plain).toContain(line);
    }
    // Embedded metrics by SEARCH, in the namespace the functions are told to emit into.
    const namespace = fnResource('consumer').Properties['Environment']['Variables']['POWERTOOLS_METRICS_NAMESPACE'];
    expect(namespace).toBe('StripeBilling');
    for (const fn of FUNCTIONS) expect(fnResource(fn).Properties['Environment']['Variables']['POWERTOOLS_METRICS_NAMESPACE']).toBe(namespace);
    const searches = rows.filter((r) => typeof r[0] === 'object').map((r) => r[0].expression as string);
    const searched = searches.map((e) => {
      const m = /^SEARCH\('Namespace="([^"]+)" MetricName="([^"]+)"', '(Sum|Maximum|p50|p99)', 300\)$/.exec(e);
      expect({ expression: e, valid: m !== null }).toEqual({ expression: e, valid: true });
      expect(m![1]).toBe(namespace);
      return m![2];
    });
    expect([...new Set(searched)].sort()).toEqual([...EMBEDDED].sort());
    // Every expression has an id a dashboard accepts (a lowercase letter first), unique in its widget.
    for (const w of graphs) {
      const ids = w.properties.metrics.filter((r: any[]) => typeof r[0] === 'object').map((r: any[]) => r[0].id as string);
      for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z0-9_]*$/);
      expect(new Set(ids).size).toBe(ids.length);
    }
  });

  it('tells the sweep the payload retention (empty: payloads are kept)', () => {
    expect(fnResource('sweep').Properties['Environment']['Variables']['EVENT_PAYLOAD_RETENTION_DAYS']).toBe('');
  });
});

describe('the packaged handlers, each loaded from its zip in a fresh Node process', () => {
  let db: Awaited<ReturnType<typeof createEmptyDatabase>>;
  let sqs: TestSqs;
  let smtp: SmtpSink;
  let aws: SecretsServer;
  const SECRET = 'whsec_packaged_artifact_test_0123456789';
  const PARAMETER = '/stripe-billing/ci/stripe-webhook-secret';
  const PORTAL_PARAMETER = '/stripe-billing/ci/portal-signing-secret';
  const PORTAL_SECRET = 'packaged-portal-secret-0123456789abcdefghij';

  beforeAll(async () => {
    db = await createEmptyDatabase();
    sqs = await startTestSqs();
    smtp = await startSmtpSink();
    aws = await startSecretsServer();
    aws.parameters.set(PARAMETER, SECRET);
    aws.parameters.set(PORTAL_PARAMETER, PORTAL_SECRET);
  });
  afterAll(async () => {
    await aws?.close();
    await smtp?.close();
    await sqs?.stop();
    await db?.drop();
  });

  async function invoke(node: string, fn: FunctionName | typeof PAGE_FUNCTION, event: unknown, env: Record<string, string>): Promise<any> {
    const base = withoutAws({ PATH: process.env['PATH'] ?? '' });
    const handler = fn === PAGE_FUNCTION ? 'handlers/billing-page.handler' : `handlers/${fn}.handler`;
    const { stdout } = await run(node, [path.join(__dirname, 'invoke-artifact.cjs'), path.join(work, fn), handler, JSON.stringify(event)], {
      cwd: path.join(work, fn),
      // Only what the function would see on Lambda, plus the local stand-ins' endpoints.
      env: { ...base, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test', LOG_LEVEL: 'warn', ...env },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((err: { stdout?: string; stderr?: string }) => {
      throw new Error(`${fn} failed in ${node}:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (!line) throw new Error(`${fn} printed no result:\n${stdout}`);
    return JSON.parse(line.slice('RESULT '.length));
  }

  const nodes = [process.execPath, ...(process.env['LAMBDA_NODE'] ? [process.env['LAMBDA_NODE']] : [])];

  it.each(nodes)('migrate → webhook → consumer → mailer → sweep on %s', async (node) => {
    const version = (await run(node, ['--version'])).stdout.trim();
    expect(version).toMatch(/^v(2[0-9])\./);

    // The bundled migrations (class names kept through bundling) build the schema the rest uses.
    const migrated = await invoke(node, 'migrate', {}, { DATABASE_URL: db.url });
    expect(migrated.applied).toEqual(node === nodes[0] ? MIGRATIONS.map((m) => m.name) : []);

    const id = uid('in');
    const email = `artifact-${uid('c')}@example.com`;
    const stripeEvent = event(
      'invoice.finalized',
      invoice({ id, status: 'open', customer_email: email, collection_method: 'send_invoice', due_date: Math.floor(Date.now() / 1000) + 86_400 * 14, amount_due: 990, total: 990, amount_remaining: 990, amount_paid: 0, currency: 'eur', number: 'INV-ART-1', status_transitions: { finalized_at: Math.floor(Date.now() / 1000), paid_at: null, voided_at: null, marked_uncollectible_at: null } }),
    );
    const payload = JSON.stringify(stripeEvent);
    const sqsEnv = { SQS_QUEUE_URL: sqs.queueUrl, SQS_DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint };

    // The webhook reads its secret from "SSM" (the stand-in), through the bundled Powertools and SDK.
    const answer = await invoke(node, 'webhook', httpApiEvent(payload, { 'stripe-signature': sign(payload, SECRET) }, { base64: true }), {
      ...sqsEnv,
      STRIPE_WEBHOOK_SECRET_PARAMETER: PARAMETER,
      AWS_ENDPOINT_URL_SSM: aws.endpoint,
    });
    expect(answer).toMatchObject({ statusCode: 200, body: JSON.stringify({ received: true }) });

    const batch = await receiveBatch(sqs.client, sqs.queueUrl, 1);
    expect(batch.Records.map((r) => r.body)).toEqual([payload]);
    const consumed = await invoke(node, 'consumer', batch, { DATABASE_URL: db.url });
    expect(consumed).toEqual({ batchItemFailures: [] });
    await settleLikeLambda(sqs.client, sqs.queueUrl, batch, consumed);
    const ds = createDataSource({ url: db.url, poolSize: 1 });
    await ds.initialize();
    try {
      expect(await findInvoice(ds.manager, id)).toMatchObject({ status: 'open', amountCents: 990, currency: 'eur' });
    } finally {
      await ds.destroy();
    }

    const mailed = await invoke(node, 'mailer', scheduledEvent('mailer'), { DATABASE_URL: db.url, SMTP_URL: smtp.url, MAIL_FROM: 'Acme Billing <billing@acme.test>' });
    expect(mailed).toMatchObject({ sent: 1, timedOut: false });
    expect(smtp.to(email)).toHaveLength(1);
    expect(smtp.to(email)[0]!.html).toContain('INV-ART-1');

    const swept = await invoke(node, 'sweep', scheduledEvent('sweep'), { DATABASE_URL: db.url });
    expect(swept).toEqual({ flagged: 0, reviewed: expect.any(Number) });

    // The billing page reads its signing secret from "SSM" and the invoice the consumer stored.
    const customer = (stripeEvent['data'] as { object: { customer: string } }).object.customer;
    const pageEnv = { DATABASE_URL: db.url, PORTAL_SIGNING_SECRET_PARAMETER: PORTAL_PARAMETER, AWS_ENDPOINT_URL_SSM: aws.endpoint };
    const pageEvent = (token: string, sourceIp = '203.0.113.9') => {
      const base = httpApiEvent('', {});
      const { 'content-length': _length, 'content-type': _type, ...headers } = base.headers;
      return {
        ...base,
        headers: { ...headers, 'x-forwarded-for': sourceIp },
        routeKey: 'GET /billing/{token}',
        rawPath: `/billing/${token}`,
        requestContext: { ...base.requestContext, routeKey: 'GET /billing/{token}', http: { ...base.requestContext.http, method: 'GET', path: `/billing/${token}`, sourceIp } },
        pathParameters: { token },
        body: undefined,
        isBase64Encoded: false,
      };
    };
    const expiresAt = Math.floor(Date.now() / 1000) + 600;
    const token = signPortalToken({ customerId: customer, accountId: null, role: 'admin', expiresAt }, PORTAL_SECRET);
    const shown = await invoke(node, PAGE_FUNCTION, pageEvent(token), pageEnv);
    expect(shown).toMatchObject({ statusCode: 200, headers: { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } });
    expect(shown.body).toContain('INV-ART-1');
    expect(shown.body).toContain('>Open<');
    const json = await invoke(node, PAGE_FUNCTION, pageEvent(`${token}.json`), pageEnv);
    expect(JSON.parse(json.body).invoices.map((i: { number: string }) => i.number)).toContain('INV-ART-1');
    const expired = signPortalToken({ customerId: customer, accountId: null, role: 'admin', expiresAt: expiresAt - 3600 }, PORTAL_SECRET);
    expect(await invoke(node, PAGE_FUNCTION, pageEvent(expired), pageEnv)).toMatchObject({ statusCode: 404 });
    // Each invocation is a fresh process: the limits they share are counted in the database.
    const limited = { ...pageEnv, PORTAL_RATE_LIMIT_PER_TOKEN: '1' };
    // A token of its own per Node run, since the counts outlive each run's processes.
    const once = signPortalToken({ customerId: customer, accountId: null, role: 'member', expiresAt: expiresAt - nodes.indexOf(node) }, PORTAL_SECRET);
    expect(await invoke(node, PAGE_FUNCTION, pageEvent(once, '198.51.100.1'), limited)).toMatchObject({ statusCode: 200 });
    expect(await invoke(node, PAGE_FUNCTION, pageEvent(`${once}.json`, '198.51.100.2'), limited)).toMatchObject({ statusCode: 429, body: '{"error":"Too many requests"}' });
  });
});
