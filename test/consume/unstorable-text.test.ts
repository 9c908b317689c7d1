// Found by the fault suite's fuzz: a verified event with a NUL character or an unpaired surrogate
// in any string failed its transaction at every receive (PostgreSQL refuses both in text and
// jsonb) and reached the DLQ only after all its receives, failing its whole batch each time.
import { processMessage } from '../../src/consume/process-event';
import { findUnstorableText } from '../../src/consume/unstorable-text';
import { MalformedEventError } from '../../src/billing/snapshot';
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
    await expect(processMessage(db.ds, body)).rejects.toBeInstanceOf(MalformedEventError);
    await expect(processMessage(db.ds, body)).rejects.toThrow(/cannot store .* at data\.object\.customer_name/);
    expect(await db.ds.query(`SELECT 1 FROM invoices WHERE stripe_invoice_id = $1`, [id])).toEqual([]);
  });
});
