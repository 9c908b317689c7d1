// Found by the fault suite's fuzz: a verified event with a NUL character or an unpaired surrogate
// in any string failed its transaction at every receive (PostgreSQL refuses both in text and
// jsonb) and reached the DLQ only after all its receives, failing its whole batch each time.
import { applyEvent } from '../support/apply-event';
import fc from 'fast-check';
import { findUnstorableText, mayHoldUnstorableText } from '../../src/pipeline/unstorable-text';
import { MalformedEventError } from '../../src/errors';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { event, invoice, uid } from '../support/stripe-events';

describe('findUnstorableText', () => {
  it.each<[string, unknown, string | null]>([
    ['plain Unicode', { a: ['Zoë 東京 👩‍💻', { b: '\u202E' }] }, null],
    ['a NUL in a value', { a: { b: ['ok', 'x\u0000y'] } }, 'a.b[1]'],
    ['an unpaired high surrogate', { name: 'lone \ud800 here' }, 'name'],
    ['an unpaired low surrogate', { name: 'lone \udc00' }, 'name'],
    ['a NUL in a key', { a: { 'k\u0000': 1 } }, 'a.(a key)'],
  ])('%s', (_label, value, expected) => {
    expect(findUnstorableText(value)).toBe(expected);
  });

  it('walks nesting deeper than the call stack', () => {
    const deep = JSON.parse(`${'{"a":'.repeat(50_000)}"\\u0000"${'}'.repeat(50_000)}`) as unknown;
    expect(findUnstorableText(deep)).toMatch(/^a\.a\.a/);
  });
});

describe('mayHoldUnstorableText, the check before the walk', () => {
  it.each([
    ['{"a":"\\u0000"}', true],
    ['{"a":"\\U0000"}', false],
    ['{"a":"\\uD800"}', true],
    ['{"a":"\\udc00x"}', true],
    ['{"\\uDbFf":1}', true],
    ['{"a":"\\u00e9 \\u2028"}', false],
    ['{"a":"plain Zoë 東京"}', false],
  ])('%s → %s', (json, expected) => {
    expect(mayHoldUnstorableText(json)).toBe(expected);
  });

  it('never answers false for text whose parse the walk would refuse', () => {
    // Strings of any UTF-16 code units, NUL and lone surrogates included, in keys and values;
    // JSON.stringify escapes lone surrogates, and the raw form is tried too.
    const codeUnit = fc.oneof(
      fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\\', 'u', '0'),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    );
    const text = fc.string({ unit: codeUnit, maxLength: 12 });
    const value = fc.dictionary(text, fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.dictionary(text, text, { maxKeys: 3 })), { maxKeys: 4 });
    fc.assert(
      fc.property(value, fc.boolean(), (v, raw) => {
        let json = JSON.stringify(v);
        if (raw) json = json.replace(/\\u(d[89a-f][0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        let parsed: unknown;
        try {
          parsed = JSON.parse(json);
        } catch {
          return;
        }
        if (findUnstorableText(parsed) !== null) expect(mayHoldUnstorableText(json)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('the consumer', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(2);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('refuses such an event as malformed, at once, touching no row', async () => {
    const id = uid('in');
    const body = JSON.stringify(event('invoice.finalized', invoice({ id, status: 'open', due_date: null, customer_name: 'NUL\u0000byte' })));
    await expect(applyEvent(db.ds, body)).rejects.toBeInstanceOf(MalformedEventError);
    await expect(applyEvent(db.ds, body)).rejects.toThrow(/cannot store .* at data\.object\.customer_name/);
    expect(await db.ds.query(`SELECT 1 FROM invoices WHERE stripe_invoice_id = $1`, [id])).toEqual([]);
  });
});
