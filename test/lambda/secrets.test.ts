import { LambdaRuntime } from '../../src/lambda/runtime';
import { sweepHandler } from '../../src/lambda/sweep';
import { databaseUrlFromSecret, powertoolsStores } from '../../src/lambda/secret-env';
import { webhookHandler } from '../../src/lambda/webhook';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startTestSqs, type TestSqs } from '../support/sqs';
import { event, invoice, sign, TEST_SECRET, uid } from '../support/stripe-events';
import { startSecretsServer, type SecretsServer } from './aws-secrets-server';
import { captureLogs, httpApiEvent, lambdaContext, scheduledEvent, takeAll } from './events';

const SSM_SECRET = 'whsec_from_parameter_store_0123456789abcdef';
const ROTATED_SECRET = 'whsec_rotated_in_parameter_store_0123456789';
const PARAMETER = '/stripe-billing/test/stripe-webhook-secret';
const DB_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:stripe-billing-test-db-AbCdEf';

let db: TestDatabase;
let sqs: TestSqs;
let aws: SecretsServer;
const runtimes: LambdaRuntime[] = [];

beforeAll(async () => {
  db = await createTestDatabase(2);
  sqs = await startTestSqs();
  aws = await startSecretsServer();
});
afterAll(async () => {
  for (const rt of runtimes) await rt.close();
  await aws?.close();
  await sqs?.stop();
  await db?.drop();
});
beforeEach(() => {
  aws.requests.length = 0;
  aws.parameters.clear();
  aws.secrets.clear();
});
afterEach(async () => {
  await takeAll(sqs.client, sqs.queueUrl);
});

function runtime(env: Record<string, string>, logs = captureLogs()): LambdaRuntime {
  const rt = new LambdaRuntime({
    env: { AWS_REGION: 'us-east-1', SQS_QUEUE_URL: sqs.queueUrl, SQS_DLQ_URL: sqs.dlqUrl, AWS_ENDPOINT_URL_SQS: sqs.endpoint, LOG_LEVEL: 'info', ...env },
    // The real Powertools providers and SDK clients, pointed at the local stand-in instead of AWS.
    stores: powertoolsStores({ maxAgeSeconds: Number(env['SECRETS_MAX_AGE_SECONDS'] ?? 300), ssm: aws.ssmClient(), secretsManager: aws.secretsManagerClient() }),
    logDestination: logs.destination,
  });
  runtimes.push(rt);
  return rt;
}

async function postSignedWith(rt: LambdaRuntime, secret: string): Promise<number> {
  const payload = JSON.stringify(event('invoice.finalized', invoice({ id: uid('in'), status: 'open' })));
  const r = await webhookHandler(rt)(httpApiEvent(payload, { 'stripe-signature': sign(payload, secret) }), lambdaContext('webhook'));
  return r.statusCode ?? 0;
}

/** The test database's credentials as RDS stores them in Secrets Manager. */
function rdsSecretFor(url: string): { secret: string; host: string; port: string; name: string } {
  const u = new URL(url);
  const secret = JSON.stringify({
    engine: 'postgres',
    username: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    // The instance behind the proxy, which the function must not connect to directly.
    host: 'stripe-billing-test.cluster-abcdefghijkl.us-east-1.rds.amazonaws.com',
    port: 5432,
    dbname: 'postgres',
  });
  return { secret, host: u.hostname, port: u.port, name: u.pathname.slice(1) };
}

describe('secrets: environment variables win over SSM and Secrets Manager', () => {
  it('never calls AWS when the variables are set, even if the parameter names are set too', async () => {
    aws.parameters.set(PARAMETER, SSM_SECRET);
    aws.secrets.set(DB_SECRET_ARN, rdsSecretFor(db.url).secret);
    const rt = runtime({
      STRIPE_WEBHOOK_SECRET: TEST_SECRET,
      STRIPE_WEBHOOK_SECRET_PARAMETER: PARAMETER,
      DATABASE_URL: db.url,
      DATABASE_URL_SECRET_ID: DB_SECRET_ARN,
    });
    expect(await postSignedWith(rt, TEST_SECRET)).toBe(200);
    expect(await postSignedWith(rt, SSM_SECRET)).toBe(400);
    await sweepHandler(rt)(scheduledEvent('sweep'), lambdaContext('sweep'));
    expect(aws.requests).toEqual([]);
  });

  it('reads the webhook secret from SSM (decrypted) when the variable is unset, once per max age', async () => {
    aws.parameters.set(PARAMETER, SSM_SECRET);
    const rt = runtime({ STRIPE_WEBHOOK_SECRET_PARAMETER: PARAMETER });
    expect(await postSignedWith(rt, SSM_SECRET)).toBe(200);
    expect(await postSignedWith(rt, SSM_SECRET)).toBe(200);
    expect(await postSignedWith(rt, TEST_SECRET)).toBe(400);
    expect(aws.requests).toEqual([{ target: 'AmazonSSM.GetParameter', body: { Name: PARAMETER, WithDecryption: true } }]);
  });

  it('picks up a rotated secret after the max age, and keeps the old one if the store stops answering', async () => {
    aws.parameters.set(PARAMETER, SSM_SECRET);
    const logs = captureLogs();
    const rt = runtime({ STRIPE_WEBHOOK_SECRET_PARAMETER: PARAMETER, SECRETS_MAX_AGE_SECONDS: '0' }, logs);
    expect(await postSignedWith(rt, SSM_SECRET)).toBe(200);
    // Stripe's roll: both secrets sign for up to 24 h; the parameter lists them comma-separated.
    aws.parameters.set(PARAMETER, `${ROTATED_SECRET},${SSM_SECRET}`);
    expect(await postSignedWith(rt, ROTATED_SECRET)).toBe(200);
    aws.parameters.delete(PARAMETER);
    expect(await postSignedWith(rt, ROTATED_SECRET)).toBe(200);
    expect(logs.lines().some((l) => l['msg'] === 'reading secrets again failed; keeping the previous values')).toBe(true);
  });

  it('builds DATABASE_URL from the RDS secret in Secrets Manager and the RDS Proxy endpoint', async () => {
    const rds = rdsSecretFor(db.url);
    aws.secrets.set(DB_SECRET_ARN, rds.secret);
    const rt = runtime({
      DATABASE_URL_SECRET_ID: DB_SECRET_ARN,
      DATABASE_HOST: rds.host,
      DATABASE_PORT: rds.port,
      DATABASE_NAME: rds.name,
      // The test server speaks no TLS; RDS Proxy does, and verify-full is the default.
      DATABASE_SSLMODE: 'disable',
    });
    expect(await sweepHandler(rt)(scheduledEvent('sweep'), lambdaContext('sweep'))).toEqual({ flagged: 0, reviewed: 0 });
    expect(aws.requests).toEqual([{ target: 'secretsmanager.GetSecretValue', body: { SecretId: DB_SECRET_ARN } }]);
  });

  it('fails with an error naming the variable and the parameter, never a value, when the parameter is missing', async () => {
    const logs = captureLogs();
    const rt = runtime({ STRIPE_WEBHOOK_SECRET_PARAMETER: '/stripe-billing/test/missing' }, logs);
    const payload = JSON.stringify(event('invoice.finalized', invoice({ id: uid('in') })));
    await expect(webhookHandler(rt)(httpApiEvent(payload, { 'stripe-signature': sign(payload, TEST_SECRET) }))).rejects.toThrow(
      /STRIPE_WEBHOOK_SECRET: cannot read SSM parameter \/stripe-billing\/test\/missing: ParameterNotFound/,
    );
  });
});

describe('databaseUrlFromSecret', () => {
  it('escapes credentials so any password survives the URL', () => {
    const password = 'p@ss:w/rd?#%&=+ ü';
    const url = databaseUrlFromSecret(JSON.stringify({ username: 'billing app', password, port: 5432 }), {
      DATABASE_HOST: 'proxy.example.internal',
      DATABASE_NAME: 'billing',
    });
    const u = new URL(url);
    expect(decodeURIComponent(u.username)).toBe('billing app');
    expect(decodeURIComponent(u.password)).toBe(password);
    expect(u.hostname).toBe('proxy.example.internal');
    expect(u.pathname).toBe('/billing');
    expect(u.searchParams.get('sslmode')).toBe('verify-full');
  });

  it('takes a secret that is already a URL as it is, and refuses anything else clearly', () => {
    expect(databaseUrlFromSecret('postgres://u:p@h:5432/d', {})).toBe('postgres://u:p@h:5432/d');
    expect(() => databaseUrlFromSecret('{"username": "u"}', {})).toThrow(/needs "username" and "password"/);
    expect(() => databaseUrlFromSecret('hunter2', {})).toThrow(/neither a postgres:\/\/ URL nor RDS credentials JSON/);
    expect(() => databaseUrlFromSecret('{"username": "u", "password": "p"}', {})).toThrow(/DATABASE_HOST/);
  });
});
