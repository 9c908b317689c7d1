import type { Contact } from '../../src/billing/contact';
import { chooseRecipient } from '../../src/mail/delivery';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { openInvoiceState } from '../support/invoice-state';
import { insertContact, insertInvoice } from './rows';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

const recipientInTs = (invoiceEmail: string | null, customerEmail: string | null, primaryEmail: string | null): string | null => {
  // No billing_contacts row reads as both contact addresses null in SQL.
  const contact: Contact | null = invoiceEmail === null && primaryEmail === null ? null : { invoiceEmail, primaryEmail };
  return chooseRecipient(contact, openInvoiceState(1_800_000_000, { customerEmail }));
};

type Triple = readonly [string | null, string | null, string | null];

async function recipientsInSql(triples: readonly Triple[]): Promise<Array<string | null>> {
  const rows: { r: string | null }[] = await db.ds.query(
    `SELECT finance_email_recipient(i, c, p) AS r
       FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(i, c, p, n)
      ORDER BY n`,
    [triples.map((t) => t[0]), triples.map((t) => t[1]), triples.map((t) => t[2])],
  );
  return rows.map((r) => r.r);
}

async function expectAgreement(triples: readonly Triple[]): Promise<void> {
  const sql = await recipientsInSql(triples);
  expect(sql).toHaveLength(triples.length);
  const disagreements = triples
    .map((t, i) => ({ candidates: t, sql: sql[i], ts: recipientInTs(...t) }))
    .filter((c) => c.sql !== c.ts);
  expect(disagreements).toEqual([]);
}

const VALID = [
  'ap@acme.test',
  'A.B+tag@Example.COM',
  "o'brien@x.io",
  '_x@y.co',
  'a-b@sub.domain.org',
  'x@xn--bcher-kva.example',
  'UPPER@EXAMPLE.ORG',
  `${'a'.repeat(64)}@x.co`,
  `${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(58)}.co`, // 254 characters
];
const INVALID = [
  '',
  ' ',
  'not-an-email',
  'a@b',
  'a@b.c',
  '@b.co',
  'a@.co',
  'a..b@x.co',
  '.a@x.co',
  'a.@x.co',
  'a@-x.co',
  'a@x..co',
  'a@x.co.',
  'a@x.c0',
  'a b@x.co',
  'a@b@x.co',
  'Jane <j@x.co>',
  'a@x.co, b@x.co',
  'a@x.co\n',
  '\r\na@x.co',
  'a@x.co\nBcc: evil@evil.test',
  'jö@x.de',
  'j@exämple.de',
  '"quoted"@x.co',
  'a@[127.0.0.1]',
  'a@1.2.3.4',
  `${'a'.repeat(65)}@x.co`,
  `${'a'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(59)}.co`, // 255 characters
];
// What trim() removes (and a few look-alikes it does not: zero-width space, Mongolian vowel separator).
const PADS = [' ', '\t', '\v', '\f', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff', '\u200b', '\u180e', '  \t '];
const PADDED = ['ap@Acme.TEST', 'not-an-email'].flatMap((a) => PADS.flatMap((p) => [`${p}${a}`, `${a}${p}`, `${p}${a}${p}`]));
const CANDIDATES: Array<string | null> = [null, ...VALID, ...INVALID, ...PADDED];

describe('finance_email_recipient and chooseRecipient (src/mail/delivery.ts)', () => {
  it('agree on each candidate in each position', async () => {
    const triples = CANDIDATES.flatMap((c): Triple[] => [
      [c, null, null],
      [null, c, null],
      [null, null, c],
    ]);
    await expectAgreement(triples);
    // Both valid and invalid candidates were among them.
    const sql = await recipientsInSql(CANDIDATES.map((c) => [null, c, null]));
    expect(sql.filter((r) => r !== null).length).toBeGreaterThan(VALID.length);
    expect(sql.filter((r) => r === null).length).toBeGreaterThan(INVALID.length);
  });

  it('agree on the order: every combination of valid, invalid, padded, empty and missing', async () => {
    const few: Array<string | null> = [null, '', '   ', 'not-an-email', 'ap@Acme.TEST', ' billing@Customer.Example ', '\u00a0owner@x.io\u3000', 'a@x.co\n', 'Jane <j@x.co>'];
    const triples = few.flatMap((i) => few.flatMap((c) => few.map((p): Triple => [i, c, p])));
    await expectAgreement(triples);
  });

  it('agree on every BMP character as padding and inside an address', async () => {
    // One call per character and place: what trim() removes, what the pattern lets into the local
    // part, the domain and the top-level domain. U+0000 and the surrogates cannot be stored in text.
    const codes: number[] = [];
    for (let c = 1; c <= 0xffff; c++) if (c < 0xd800 || c > 0xdfff) codes.push(c);
    const shapes = (ch: string): string[] => [`${ch}ap@acme.test${ch}`, `a${ch}p@acme.test`, `ap@ac${ch}me.test`, `ap@acme.te${ch}st`];
    const candidates = codes.flatMap((c) => shapes(String.fromCharCode(c)));
    const sql = await recipientsInSql(candidates.map((c) => [null, c, null]));
    const disagreements = candidates
      .map((c, i) => ({ code: codes[Math.floor(i / 4)]!.toString(16), candidate: JSON.stringify(c), sql: sql[i], ts: recipientInTs(null, c, null) }))
      .filter((d) => d.sql !== d.ts);
    expect(disagreements).toEqual([]);
  });
});

describe('finance_invoices.recipient_email', () => {
  const row = async (id: string) =>
    ((await db.ds.query(`SELECT recipient_email FROM finance_invoices WHERE invoice_id = $1`, [id])) as { recipient_email: string | null }[])[0]!.recipient_email;

  it('is where the mailer sends: contact invoice email, else the invoice’s, else the contact primary email', async () => {
    await insertContact(db.ds, 'cus_rcptA', ' AP@Contact.TEST ', 'owner@contact.test');
    expect(await row(await insertInvoice(db.ds, { customerId: 'cus_rcptA', customerEmail: 'jane@invoice.test' }))).toBe('AP@contact.test');

    await insertContact(db.ds, 'cus_rcptB', 'not-an-email', 'Owner@Contact.TEST');
    expect(await row(await insertInvoice(db.ds, { customerId: 'cus_rcptB', customerEmail: 'Jane@Invoice.TEST' }))).toBe('Jane@invoice.test');
    expect(await row(await insertInvoice(db.ds, { customerId: 'cus_rcptB', customerEmail: null }))).toBe('Owner@contact.test');

    // No contact row, and no customer at all.
    expect(await row(await insertInvoice(db.ds, { customerId: 'cus_rcptNone', customerEmail: 'x@y.io' }))).toBe('x@y.io');
    expect(await row(await insertInvoice(db.ds, { customerId: null, customerEmail: 'bad address' }))).toBeNull();
  });
});
