import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import fs from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import { AccountMismatchError, MalformedEventError } from '../src/errors';
import { UsageError } from '../src/commands/usage';
import { EndpointExistsError } from '../src/commands/endpoint-create';
import { ConfigError } from '../src/config';
import { EmbeddedPostgresError } from '../src/embedded/embedded-postgres';
import { HostDirError } from '../src/embedded/server-placement';
import { NoServerUserError } from '../src/embedded/server-user';
import { BillingError, isRetryable } from '../src/errors';
import { HeaderInjectionError } from '../src/mail/address';
import { EventTooLargeError, QueueUnavailableError } from '../src/queue/event-queue';
import { EntryFailedError, InvalidBatchOptionError, SendBatcher } from '../src/queue/send-batcher';
import { createSqsClient } from '../src/queue/sqs-client';
import { AmountOutOfRangeError } from '../src/read-models/amounts';
import { BackfillInterruptedError, QueueUnreachableError, type BackfillResult } from '../src/recovery/backfill';
import { ImportInterruptedError, type ImportResult } from '../src/recovery/import';
import { listPages, StripeApiError } from '../src/recovery/stripe-pages';
import { StartupError } from '../src/run/resources';
import { MissingStripeKeyError } from '../src/stripe/api-client';
import { startTestSqs, type TestSqs } from './support/sqs';
import { TcpProxy, viaProxy } from './support/tcp-proxy';

/**
 * Every error the product defines says whether the same work can succeed later (the worker and
 * the Lambda consumer retry on it) and which exit status the CLI ends with: 2 when the user must
 * change something (arguments, configuration, the host), 1 otherwise.
 */

const backfillSoFar = {} as BackfillResult;
const importSoFar = {} as ImportResult;

const EXPECTED: Array<[string, () => Error, boolean, number]> = [
  ['UsageError', () => new UsageError('--since: not an ISO 8601 moment'), false, 2],
  ['ConfigError', () => new ConfigError('invalid configuration'), false, 2],
  ['MissingStripeKeyError', () => new MissingStripeKeyError('backfill'), false, 2],
  ['StartupError', () => new StartupError('cannot connect to the database'), false, 2],
  ['EmbeddedPostgresError', () => new EmbeddedPostgresError('initdb failed (exit 1)'), false, 2],
  ['NoServerUserError', () => new NoServerUserError(), false, 2],
  ['HostDirError', () => new HostDirError('/var/lib/stripe-billing must be a folder owned by root'), false, 2],
  ['HeaderInjectionError', () => new HeaderInjectionError('Subject header value contains a line break or NUL'), false, 1],
  ['QueueUnavailableError', () => new QueueUnavailableError('queue did not take the event'), true, 1],
  ['EventTooLargeError', () => new EventTooLargeError('event is 2000000 bytes without line items'), false, 1],
  ['InvalidBatchOptionError', () => new InvalidBatchOptionError('maxEntries must be a whole number from 1 to 10'), false, 1],
  ['EntryFailedError', () => new EntryFailedError('InternalError', true), true, 1],
  ['MalformedEventError', () => new MalformedEventError('invoice has no id'), false, 1],
  ['AccountMismatchError', () => new AccountMismatchError('invoice in_1 belongs to the platform; event evt_1 (invoice.paid) is of connected account acct_1 and cannot change it'), false, 1],
  ['StripeApiError', () => new StripeApiError('GET /v1/events failed', true), true, 1],
  ['BackfillInterruptedError', () => new BackfillInterruptedError('queue did not take the event', backfillSoFar), true, 1],
  ['QueueUnreachableError', () => new QueueUnreachableError('cannot reach the queue'), true, 1],
  ['ImportInterruptedError', () => new ImportInterruptedError('GET /v1/invoices failed', importSoFar), true, 1],
  ['EndpointExistsError', () => new EndpointExistsError('https://billing.example/webhooks/stripe already has endpoint we_1'), false, 2],
  ['AmountOutOfRangeError', () => new AmountOutOfRangeError('amount is past the range a JSON number holds exactly'), false, 1],
];

describe.each(EXPECTED)('%s', (name, make, retryable, exitCode) => {
  const err = make();

  it('is a BillingError named for its class', () => {
    expect(err).toBeInstanceOf(BillingError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.constructor.name).toBe(name);
  });

  it(`is ${retryable ? '' : 'not '}retryable and ends a command with exit status ${exitCode}`, () => {
    const billing = err as BillingError;
    expect(billing.retryable).toBe(retryable);
    expect(isRetryable(err)).toBe(retryable);
    expect(billing.exitCode).toBe(exitCode);
  });
});

it('lists every error class the product defines', () => {
  const declared: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        for (const m of fs.readFileSync(full, 'utf8').matchAll(/^export class (\w+) extends \w*Error\b/gm)) declared.push(m[1]!);
      }
    }
  };
  walk(path.join(__dirname, '../src'));
  expect(declared.sort()).toEqual(EXPECTED.map(([name]) => name).sort());
});

it('anything that is not ours is worth retrying (a lost connection, a bug)', () => {
  expect(isRetryable(new Error('Connection terminated unexpectedly'))).toBe(true);
  expect(isRetryable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(true);
  expect(isRetryable('a string thrown')).toBe(true);
});

describe('errors that take the decision from the failure they report', () => {
  it.each([false, true])('EmbeddedPostgresError with portTaken %s refuses the start either way', (portTaken) => {
    const err = new EmbeddedPostgresError('PostgreSQL exited while starting', portTaken);
    expect(err.portTaken).toBe(portTaken);
    expect([err.retryable, err.exitCode]).toEqual([false, 2]);
  });

  it.each([
    ['an unreachable API', () => new Stripe.errors.StripeConnectionError({ message: 'connect ECONNREFUSED' }), true],
    ['a rate limit (429)', () => new Stripe.errors.StripeRateLimitError({ message: 'Too many requests', statusCode: 429 }), true],
    ['a Stripe outage (503)', () => new Stripe.errors.StripeAPIError({ message: 'unavailable', statusCode: 503 }), true],
    ['a refused key (401)', () => new Stripe.errors.StripeAuthenticationError({ message: 'Invalid API Key', statusCode: 401 }), false],
    ['a key without access (403)', () => new Stripe.errors.StripePermissionError({ message: 'not allowed', statusCode: 403 }), false],
    ['a bad parameter (400)', () => new Stripe.errors.StripeInvalidRequestError({ message: 'Invalid starting_after', statusCode: 400 }), false],
    ['a bug of ours', () => new TypeError('list is not a function'), false],
  ])('StripeApiError after %s: retryable %s', async (_name, failure, retryable) => {
    const list = async (): Promise<{ data: { id: string }[]; has_more: boolean }> => {
      throw failure();
    };
    const pages = listPages(list, { path: '/v1/events', logger: { warn: () => undefined }, backoff: { attempts: 1 } });
    const err = await pages.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StripeApiError);
    expect((err as StripeApiError).retryable).toBe(retryable);
  });

  describe('EntryFailedError from a real queue', () => {
    let sqs: TestSqs;
    let proxy: TcpProxy;
    beforeAll(async () => {
      sqs = await startTestSqs();
      proxy = new TcpProxy('127.0.0.1', Number(new URL(sqs.endpoint).port));
      await proxy.start();
    });
    afterAll(async () => {
      await proxy?.stop();
      await sqs?.stop();
    });

    const entry = (body: string) => ({ body, attributes: undefined, bytes: Buffer.byteLength(body) });

    it('an entry SQS refuses as the sender’s fault (larger than the queue takes) is not retryable', async () => {
      const small = await sqs.client.send(
        new CreateQueueCommand({ QueueName: `errors-small-${Date.now()}`, Attributes: { MaximumMessageSize: '1024' } }),
      );
      const batcher = new SendBatcher(sqs.client, small.QueueUrl!);
      const err = await batcher.add(entry('x'.repeat(2048))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EntryFailedError);
      expect((err as EntryFailedError).retryable).toBe(false);
    });

    it('a call the queue never answered is retryable', async () => {
      const client = createSqsClient({ region: 'us-east-1', endpoint: viaProxy(sqs.endpoint, proxy.port) });
      try {
        await proxy.refuse();
        const batcher = new SendBatcher(client, viaProxy(sqs.queueUrl, proxy.port));
        const err = await batcher.add(entry('{"id":"evt_1"}')).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(EntryFailedError);
        expect((err as EntryFailedError).retryable).toBe(true);
      } finally {
        client.destroy();
        await proxy.restore();
      }
    });
  });
});
