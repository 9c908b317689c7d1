import { randomBytes } from 'node:crypto';
import { chargeObject, paymentEvent } from '../../support/payment-events';
import { event, invoice, sign } from '../../support/stripe-events';
import { thinEvent } from '../../support/thin-events';

/**
 * What a request must come to:
 * - `rejected`: never enqueued, never a row (unverified, or verified but not an event);
 * - `ignored`: verified, of a type no kind of object carries (or an invoice preview): answered 200
 *   with ignored, never a row;
 * - `good`: verified, well-formed however odd its strings: processed into a row;
 * - `malformed`: verified, but the invoice is unusable: in the DLQ or with a clear last_error;
 * - `unusable`: verified, of a handled type, but its object cannot be used: enqueued (not
 *   ignored), then kept in stripe_events unprocessed with a last_error matching `reason`.
 */
export type Fate = 'rejected' | 'ignored' | 'good' | 'malformed' | 'unusable';

export interface FuzzCase {
  family: string;
  body: Buffer;
  headers: Record<string, string>;
  fate: Fate;
  eventId?: string;
  invoiceId?: string;
  /** A text field that must come back from the row exactly as sent. */
  roundTrip?: { column: 'customer_name' | 'customer_email' | 'number'; value: string };
  /** For `unusable`: what the stored last_error must say. */
  reason?: RegExp;
}

export interface FuzzContext {
  secret: string;
  random: () => number;
  serial: () => number;
  /** Invoice ids the Stripe API test server has, for thin events. */
  knownThinInvoices: readonly string[];
}

type Json = Record<string, unknown>;

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)]!;

/** Strings an attacker or a broken client might put in any text field. */
export const NASTY_STRINGS = [
  "in_x'; DROP TABLE invoices; --",
  "' OR '1'='1",
  'Robert"); DELETE FROM stripe_events; --',
  '<script>alert(document.cookie)</script>',
  '<img src=x onerror=alert(1)>',
  '{{constructor.constructor("return process")()}}',
  '${process.env.DATABASE_URL}',
  '../../../../etc/passwd',
  'Zoë Ünïcödé — 東京 — مرحبا — 👩‍💻🇺🇦',
  '\u202Egnp.exe',
  'a\u0301\u0302\u0303\u0304 combining',
  'zero\u200Bwidth\uFEFF',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral 🧾',
  '%s%s%s%n',
  'x'.repeat(4_000),
];

/** Text that cannot be stored in PostgreSQL text or jsonb at all. */
const UNSTORABLE = ['NUL\u0000byte', 'lone \ud800 surrogate'];

const HEADER_INJECTIONS = [
  'billing@victim.test\r\nBcc: everyone@evil.test',
  'Mallory\r\nBcc: everyone@evil.test',
  'INV-1\nSubject: You won',
  'ap@customer.test\nContent-Type: text/html',
];

const now = () => Math.floor(Date.now() / 1000);

function openSnapshot(id: string, extra: Json = {}): Json {
  return invoice({
    id,
    status: 'open',
    customer: 'cus_fuzz',
    customer_email: 'ap@customer.test',
    customer_name: 'Fuzz Customer',
    number: `INV-${id.slice(-6)}`,
    amount_due: 1000,
    amount_paid: 0,
    amount_remaining: 1000,
    total: 1000,
    currency: 'usd',
    due_date: null,
    collection_method: 'charge_automatically',
    status_transitions: { finalized_at: now() - 10, paid_at: null, voided_at: null, marked_uncollectible_at: null },
    ...extra,
  });
}

function signedCase(family: string, ctx: FuzzContext, text: string, fate: Fate, ids: { eventId?: string; invoiceId?: string } = {}, extraHeaders: Record<string, string> = {}): FuzzCase {
  return {
    family,
    body: Buffer.from(text, 'utf8'),
    headers: { 'content-type': 'application/json', 'stripe-signature': sign(text, ctx.secret), ...extraHeaders },
    fate,
    ...ids,
  };
}

function invoiceEvent(ctx: FuzzContext, family: string, fields: Json, fate: Fate, roundTrip?: FuzzCase['roundTrip']): FuzzCase {
  const invoiceId = `in_fuzz_${ctx.serial()}`;
  const e = event('invoice.finalized', openSnapshot(invoiceId, fields));
  const c = signedCase(family, ctx, JSON.stringify(e), fate, { eventId: e['id'] as string, invoiceId });
  return roundTrip ? { ...c, roundTrip } : c;
}

/** A verified event of a handled type whose object cannot be used, and what its stored error must say. */
function unusableCase(family: string, ctx: FuzzContext, e: Json, reason: RegExp): FuzzCase {
  return { ...signedCase(family, ctx, JSON.stringify(e), 'unusable', { eventId: e['id'] as string }), reason };
}

const signedEvent = (family: string, ctx: FuzzContext, e: Json, fate: Fate): FuzzCase => signedCase(family, ctx, JSON.stringify(e), fate, { eventId: e['id'] as string });

const unverifiedEvent = (ctx: FuzzContext) => {
  const id = `in_unverified_${ctx.serial()}`;
  return event('invoice.paid', openSnapshot(id, { status: 'paid', amount_paid: 1000, amount_remaining: 0 }), { id: `evt_unverified_${ctx.serial()}` });
};

/** One generator per family; each returns a fresh case. */
export const FAMILIES: Record<string, (ctx: FuzzContext) => FuzzCase> = {
  'random bytes, unsigned': (ctx) => ({ family: 'random bytes, unsigned', body: randomBytes(Math.floor(ctx.random() * 4096)), headers: { 'content-type': pick(['application/json', 'application/octet-stream', 'text/plain'], ctx.random) }, fate: 'rejected' }),
  'random bytes, signed': (ctx) => {
    const body = randomBytes(1 + Math.floor(ctx.random() * 2048));
    return { family: 'random bytes, signed', body, headers: { 'stripe-signature': sign(body.toString('latin1'), ctx.secret) }, fate: 'rejected' };
  },
  'event, no signature': (ctx) => ({ family: 'event, no signature', body: Buffer.from(JSON.stringify(unverifiedEvent(ctx))), headers: { 'content-type': 'application/json' }, fate: 'rejected' }),
  'event, wrong secret': (ctx) => {
    const text = JSON.stringify(unverifiedEvent(ctx));
    return { family: 'event, wrong secret', body: Buffer.from(text), headers: { 'stripe-signature': sign(text, `whsec_${randomBytes(16).toString('hex')}`) }, fate: 'rejected' };
  },
  'event, stale or future timestamp': (ctx) => {
    const text = JSON.stringify(unverifiedEvent(ctx));
    const t = now() + (ctx.random() < 0.5 ? -1 : 1) * (400 + Math.floor(ctx.random() * 100_000));
    return { family: 'event, stale or future timestamp', body: Buffer.from(text), headers: { 'stripe-signature': sign(text, ctx.secret, t) }, fate: 'rejected' };
  },
  'event, malformed header': (ctx) => {
    const text = JSON.stringify(unverifiedEvent(ctx));
    const good = sign(text, ctx.secret);
    const t = now();
    const header = pick(
      [
        '',
        't=',
        'v1=',
        `t=${t}`,
        `t=${t},v1=${'0'.repeat(64)}`,
        `t=${t},v0=${good.split('v1=')[1]}`,
        `t=${t - 1},${good}`,
        `t=abc,v1=${good.split('v1=')[1]}`,
        `t=${t},v1=${'z'.repeat(64)}`,
        good.replace(/v1=(.)/, (_m, c: string) => `v1=${c === 'f' ? 'e' : 'f'}`),
        good.toUpperCase(),
        `${good},`.repeat(200),
        `t=${t},v1=${'a'.repeat(10_000)}`,
        'Bearer sk_test_x',
        '\u00ff\u00fe\u00fd',
        'x'.repeat(20_000),
      ],
      ctx.random,
    );
    return { family: 'event, malformed header', body: Buffer.from(text), headers: { 'content-type': 'application/json', 'stripe-signature': header }, fate: 'rejected' };
  },
  'event, header injection in the signature': (ctx) => {
    const text = JSON.stringify(unverifiedEvent(ctx));
    return { family: 'event, header injection in the signature', body: Buffer.from(text), headers: { 'stripe-signature': `${sign(text, 'whsec_other')}\r\nX-Injected: 1` }, fate: 'rejected' };
  },
  'truncated JSON, signed': (ctx) => {
    const text = JSON.stringify(event('invoice.paid', openSnapshot(`in_fuzz_${ctx.serial()}`)));
    return signedCase('truncated JSON, signed', ctx, text.slice(0, 1 + Math.floor(ctx.random() * (text.length - 2))), 'rejected');
  },
  'deeply nested JSON, signed': (ctx) => {
    const depth = 500 + Math.floor(ctx.random() * 50_000);
    return signedCase('deeply nested JSON, signed', ctx, `${'['.repeat(depth)}${']'.repeat(depth)}`, 'rejected');
  },
  'deeply nested inside an invoice, signed': (ctx) => {
    const invoiceId = `in_fuzz_${ctx.serial()}`;
    const depth = 100 + Math.floor(ctx.random() * 5_000);
    const e = event('invoice.finalized', openSnapshot(invoiceId, { x_nested: '@@' }));
    const text = JSON.stringify(e).replace('"@@"', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    // Unknown fields are not read, so the invoice itself is fine; storing the payload is the test.
    return signedCase('deeply nested inside an invoice, signed', ctx, text, 'good', { eventId: e['id'] as string, invoiceId });
  },
  'over the queue limit and deeply nested, signed': (ctx) => {
    const invoiceId = `in_fuzz_${ctx.serial()}`;
    const depth = 6_000 + Math.floor(ctx.random() * 20_000);
    const e = event('invoice.finalized', openSnapshot(invoiceId, { x_nested: '@@', description: 'y'.repeat(1_100_000) }));
    const text = JSON.stringify(e).replace('"@@"', `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    // Too big for one queue message even after dropping line items: a clear 413, as for any such event.
    return signedCase('over the queue limit and deeply nested, signed', ctx, text, 'rejected', { eventId: e['id'] as string, invoiceId });
  },
  'huge or fractional numbers': (ctx) => {
    const [literal, fate] = pick<[string, Fate]>(
      [
        ['1e400', 'malformed'],
        ['123456789012345678901234567890', 'malformed'],
        ['9007199254740993', 'malformed'],
        ['10.5', 'malformed'],
        ['-1e-400', 'good'],
        ['-250', 'good'],
      ],
      ctx.random,
    );
    const invoiceId = `in_fuzz_${ctx.serial()}`;
    const e = event('invoice.finalized', openSnapshot(invoiceId, { amount_due: '@@' }));
    const text = JSON.stringify(e).replace('"@@"', literal);
    return signedCase('huge or fractional numbers', ctx, text, fate, { eventId: e['id'] as string, invoiceId });
  },
  'wrong types in invoice fields': (ctx) => {
    const [field, value] = pick<[string, unknown]>(
      [
        ['status', 5],
        ['status', 'overdue'],
        ['currency', 'dollars'],
        ['currency', 12],
        ['customer', {}],
        ['customer', ['cus_1']],
        ['metadata', 'x'],
        ['metadata', { a: 1 }],
        ['status_transitions', []],
        ['created', '2020-01-01'],
        ['due_date', -5],
        ['attempt_count', -1],
        ['amount_paid', null],
        ['amount_remaining', true],
        ['livemode', 'yes'],
        ['total', '1000'],
      ],
      ctx.random,
    );
    return invoiceEvent(ctx, 'wrong types in invoice fields', { [field]: value }, 'malformed');
  },
  'wrong types in the envelope': (ctx) => {
    const invoiceId = `in_fuzz_${ctx.serial()}`;
    const e = event('invoice.finalized', openSnapshot(invoiceId));
    const [field, value] = pick<[string, unknown]>(
      [
        ['created', 'yesterday'],
        ['created', -1],
        ['livemode', 'no'],
        ['api_version', 42],
      ],
      ctx.random,
    );
    e[field] = value;
    return signedCase('wrong types in the envelope', ctx, JSON.stringify(e), 'malformed', { eventId: e['id'] as string, invoiceId });
  },
  'nasty strings in text fields': (ctx) => {
    const value = pick(NASTY_STRINGS, ctx.random);
    return invoiceEvent(ctx, 'nasty strings in text fields', { customer_name: value, metadata: { note: value } }, 'good', { column: 'customer_name', value });
  },
  'header injection in email fields': (ctx) => {
    const value = pick(HEADER_INJECTIONS, ctx.random);
    const field = pick(['customer_email', 'customer_name', 'number'] as const, ctx.random);
    return invoiceEvent(ctx, 'header injection in email fields', { [field]: value }, 'good', { column: field, value });
  },
  'unstorable text': (ctx) => invoiceEvent(ctx, 'unstorable text', { customer_name: pick(UNSTORABLE, ctx.random) }, 'malformed'),
  'ids with SQL and odd characters': (ctx) => {
    const invoiceId = `in_${pick(["'; DROP TABLE invoices; --", '" OR 1=1', '東京', '%_\\', '<b>'], ctx.random)}_${ctx.serial()}`;
    const e = event('invoice.finalized', openSnapshot(invoiceId), { id: `evt_${pick(["' OR '1'='1", '--', '🧾'], ctx.random)}_${ctx.serial()}` });
    return signedCase('ids with SQL and odd characters', ctx, JSON.stringify(e), 'good', { eventId: e['id'] as string, invoiceId });
  },
  // Only the type decides at ingest: types no kind carries, under handled prefixes too.
  'ignored event types': (ctx) => {
    const e = pick(
      [
        () => event('customer.subscription.created', { id: `sub_fuzz_${ctx.serial()}`, object: 'subscription' }),
        () => event('customer.discount.created', { id: `di_fuzz_${ctx.serial()}`, object: 'discount' }),
        () => event('charge.dispute.created', { id: `dp_fuzz_${ctx.serial()}`, object: 'dispute' }),
        () => event('payment_intent.succeeded', { id: `pi_fuzz_${ctx.serial()}`, object: 'payment_intent' }),
        () => event('invoice.upcoming', { ...openSnapshot(''), id: undefined }),
        () => event('invoiceitem.created', { id: `ii_fuzz_${ctx.serial()}`, object: 'invoiceitem' }),
        () => {
          const pi = `pi_fuzz_${ctx.serial()}`;
          return { ...thinEvent('v1.payment_intent.succeeded', pi), related_object: { id: pi, type: 'payment_intent', url: `/v1/payment_intents/${pi}` } };
        },
      ],
      ctx.random,
    )();
    return signedEvent('ignored event types', ctx, e, 'ignored');
  },
  'unusable events of handled types': (ctx) => {
    const family = 'unusable events of handled types';
    const n = ctx.serial();
    const [e, reason] = pick<() => [Json, RegExp]>(
      [
        () => [event('invoice.finalized', { id: 12345, object: 'invoice' }), /^invalid invoice in invoice\.finalized: /],
        () => [event('invoice.finalized', { id: `in_fuzz_${n}`, object: 'charge' }), /^invalid invoice in invoice\.finalized: /],
        () => [event('invoice.paid', { ...openSnapshot(''), id: undefined }), /^invalid invoice in invoice\.paid: .*id: missing/],
        () => [event('invoice_payment.paid', { id: `inpay_fuzz_${n}`, object: 'invoice' }), /^invalid invoice payment in invoice_payment\.paid: /],
        () => [event('charge.succeeded', { id: `in_fuzz_${n}`, object: 'invoice' }), /^invalid charge in charge\.succeeded: /],
        () => [event('refund.created', { id: 12345, object: 'refund' }), /^invalid refund in refund\.created: /],
        () => [event('credit_note.created', { id: `cn_fuzz_${n}`, object: 'customer' }), /^invalid credit note in credit_note\.created: /],
        () => [event('customer.created', { id: 12345, object: 'customer' }), /^invalid customer in customer\.created: /],
      ],
      ctx.random,
    )();
    return unusableCase(family, ctx, e, reason);
  },
  'events of the other kinds': (ctx) => {
    const n = ctx.serial();
    const e = pick(
      [
        () => event('customer.created', { id: `cus_fuzz_${n}`, object: 'customer', created: now(), email: `c${n}@customer.test`, name: pick(NASTY_STRINGS, ctx.random), livemode: false }),
        () => paymentEvent('charge.succeeded', chargeObject({ id: `ch_fuzz_${n}`, created: now() }), { created: now() }),
      ],
      ctx.random,
    )();
    return signedEvent('events of the other kinds', ctx, e, 'good');
  },
  'not an event, signed': (ctx) => {
    const text = pick(['{}', '[]', 'null', '"invoice"', '{"id":"evt_1"}', '{"id":1,"type":"invoice.paid","data":{"object":{}}}', '{"type":"invoice.paid","data":null}'], ctx.random);
    return signedCase('not an event, signed', ctx, text, 'rejected');
  },
  'content-encoding lies': (ctx) => {
    const e = event('invoice.finalized', openSnapshot(`in_fuzz_${ctx.serial()}`));
    return signedCase('content-encoding lies', ctx, JSON.stringify(e), 'rejected', {}, { 'content-encoding': pick(['gzip', 'deflate', 'br', 'compress', 'identity, gzip'], ctx.random) });
  },
  'oversized body': (ctx) => {
    const e = event('invoice.finalized', openSnapshot(`in_fuzz_${ctx.serial()}`, { description: 'x'.repeat(2_200_000) }));
    return signedCase('oversized body', ctx, JSON.stringify(e), 'rejected');
  },
  'thin events': (ctx) => {
    const r = ctx.random();
    if (r < 0.5 && ctx.knownThinInvoices.length > 0) {
      const invoiceId = pick(ctx.knownThinInvoices, ctx.random);
      const e = thinEvent('v1.invoice.finalized', invoiceId);
      return signedCase('thin events', ctx, JSON.stringify(e), 'good', { eventId: e['id'] as string, invoiceId });
    }
    if (r < 0.8) {
      const invoiceId = `in_fuzz_missing_${ctx.serial()}`;
      const e = thinEvent('v1.invoice.paid', invoiceId);
      return { ...unusableCase('thin events', ctx, e, new RegExp(`^invoice ${invoiceId} of thin event \\S+ does not exist at Stripe$`)), invoiceId };
    }
    // A handled thin type is enqueued whatever it refers to: the worker tells a wrong object.
    const e = { ...thinEvent('v1.invoice.paid', 'cus_1'), related_object: { id: 'cus_1', type: 'customer', url: '/v1/customers/cus_1' } };
    return unusableCase('thin events', ctx, e, /^thin event v1\.invoice\.paid does not refer to an invoice/);
  },
  'good event': (ctx) => invoiceEvent(ctx, 'good event', {}, 'good'),
};

/** How often each family comes up, out of the total. */
export const WEIGHTS: Record<keyof typeof FAMILIES, number> = {
  'random bytes, unsigned': 8,
  'random bytes, signed': 5,
  'event, no signature': 8,
  'event, wrong secret': 6,
  'event, stale or future timestamp': 5,
  'event, malformed header': 10,
  'event, header injection in the signature': 2,
  'truncated JSON, signed': 6,
  'deeply nested JSON, signed': 3,
  'deeply nested inside an invoice, signed': 2,
  'over the queue limit and deeply nested, signed': 0.1,
  'huge or fractional numbers': 5,
  'wrong types in invoice fields': 7,
  'wrong types in the envelope': 3,
  'nasty strings in text fields': 6,
  'header injection in email fields': 3,
  'unstorable text': 1,
  'ids with SQL and odd characters': 3,
  'ignored event types': 4,
  'unusable events of handled types': 4,
  'events of the other kinds': 2,
  'not an event, signed': 4,
  'content-encoding lies': 3,
  'oversized body': 0.1,
  'thin events': 3,
  'good event': 6,
};

export function generate(ctx: FuzzContext): FuzzCase {
  const entries = Object.entries(WEIGHTS);
  const total = entries.reduce((n, [, w]) => n + w, 0);
  let r = ctx.random() * total;
  for (const [family, w] of entries) {
    r -= w;
    if (r <= 0) return FAMILIES[family]!(ctx);
  }
  return FAMILIES['good event']!(ctx);
}
