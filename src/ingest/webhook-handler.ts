import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { objectIdField } from '../pipeline/types';
import { isHealthAlert } from '../stripe-objects/health-alert';
import { identifyEvent } from '../stripe-objects/identify-event';
import { kindOfEvent, kindOfThinEvent } from '../stripe-objects/registry';
import { EventTooLargeError, QueueUnavailableError, type EventQueue } from '../queue/event-queue';
import { noMetrics, secondsSince, type Metrics, type WebhookOutcome } from '../metrics/metrics';
import { verifyWebhook } from './verify-signature';

export interface WebhookDeps {
  queue: Pick<EventQueue, 'send'>;
  secrets: () => readonly string[];
  toleranceSeconds: number;
  logger: Logger;
  now?: () => number;
  /** Set when STRIPE_SECRET_KEY is: thin events are accepted only if their invoice can be fetched. */
  stripe?: Pick<Stripe, 'parseEventNotification'>;
  /** Counts each answer's outcome and time; default noMetrics. */
  metrics?: Metrics;
}

const THIN_WITHOUT_KEY =
  'Thin events (v1.*) need STRIPE_SECRET_KEY on this endpoint so the invoice can be fetched; set it, or send snapshot events';

export interface WebhookAnswer {
  status: number;
  body: Record<string, unknown>;
  /** What billing_webhook_requests_total counts this answer as. */
  outcome: WebhookOutcome;
}

/**
 * The whole webhook decision, independent of the HTTP framework so that express and the Lambda
 * handler answer alike: 2xx only once the event is in the queue. Each answer is counted once,
 * timed from `receivedAt` (when the request arrived, if the caller knows; else now).
 */
export async function handleWebhook(
  deps: WebhookDeps,
  rawBody: Buffer,
  signatureHeader: string | undefined,
  receivedAt: bigint = process.hrtime.bigint(),
): Promise<WebhookAnswer> {
  const answer = await decide(deps, rawBody, signatureHeader, receivedAt);
  (deps.metrics ?? noMetrics).webhook(answer.outcome, secondsSince(receivedAt));
  return answer;
}

async function decide(deps: WebhookDeps, rawBody: Buffer, signatureHeader: string | undefined, started: bigint): Promise<WebhookAnswer> {
  const verified = verifyWebhook(rawBody, signatureHeader, deps.secrets(), deps.toleranceSeconds, deps.now?.());
  if (!verified.ok) {
    deps.logger.warn({ outcome: 'rejected', reason: verified.error, bytes: rawBody.length }, 'webhook rejected');
    return { status: 400, body: { error: verified.error }, outcome: 'rejected' };
  }
  const event = verified.event;
  // The event's fields go on each line rather than into a child logger, which would be built and
  // serialised for every webhook while most log a single line.
  const about = { eventId: event['id'], type: event['type'] };
  const log = deps.logger;
  const ms = () => Number(process.hrtime.bigint() - started) / 1e6;

  // Stripe's alert that it failed to generate events is kept even without a key: nothing else
  // says which object to read again, and `reconcile --alerts` repairs it once a key is set.
  const who = identifyEvent(event);
  const alert = verified.thin && isHealthAlert(who.type);
  if (verified.thin && !(alert && !deps.stripe)) {
    // Refused rather than accepted and dropped: Stripe keeps retrying, so nothing is lost once the key is set.
    if (!deps.stripe) {
      log.warn({ ...about, outcome: 'rejected', reason: 'thin event without STRIPE_SECRET_KEY' }, 'webhook rejected');
      return { status: 400, body: { error: THIN_WITHOUT_KEY }, outcome: 'rejected' };
    }
    try {
      deps.stripe.parseEventNotification(rawBody, signatureHeader ?? '', verified.secret, deps.toleranceSeconds, undefined, deps.now?.());
    } catch (err) {
      log.warn({ ...about, outcome: 'rejected', reason: (err as Error).message }, 'webhook rejected');
      return { status: 400, body: { error: 'Not a valid Stripe event notification' }, outcome: 'rejected' };
    }
  }
  // Only the type decides: an event of a handled type whose object cannot be used is queued all
  // the same, so the consumer stores it with its reason instead of it vanishing here.
  const kind = verified.thin ? kindOfThinEvent(who.type) : kindOfEvent(who.type);
  if (!kind && !alert) {
    log.info({ ...about, outcome: 'ignored', durationMs: ms() }, 'webhook ignored');
    return { status: 200, body: { received: true, ignored: true }, outcome: 'ignored' };
  }
  const objectId = kind ? { [objectIdField(kind.object)]: who.objectId ?? undefined } : {};
  try {
    const sent = await deps.queue.send(verified.payload, event);
    log.info({ ...about, outcome: 'enqueued', ...objectId, messageId: sent.messageId, slimmed: sent.slimmed, durationMs: ms() }, 'webhook enqueued');
    return { status: 200, body: { received: true }, outcome: 'enqueued' };
  } catch (err) {
    if (err instanceof EventTooLargeError) {
      log.error({ ...about, outcome: 'too_large', ...objectId, err: err.message }, 'event too large for the queue');
      return { status: 413, body: { error: 'Event too large for the queue even without line items' }, outcome: 'too_large' };
    }
    const reason = err instanceof QueueUnavailableError ? err.message : 'queue error';
    log.error({ ...about, outcome: 'queue_unavailable', ...objectId, reason, durationMs: ms() }, 'queue unavailable');
    return { status: 503, body: { error: 'Queue unavailable; retry later' }, outcome: 'queue_unavailable' };
  }
}
