// `billing notices list`, spawned from the build against a real database: when each notice was
// queued and sent, in the table and in JSON.
import fs from 'node:fs';
import { billing, CLI } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
const run = (...args: string[]) => billing(args, { DATABASE_URL: db.url });

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
  db = await createTestDatabase(2);
  await db.ds.query(
    `INSERT INTO email_notices (stripe_invoice_id, kind, sequence, status, recipient, attempts, last_error, created_at, sent_at, next_attempt_at)
     VALUES ('in_listA', 'invoice_issued', 0, 'sent', 'ap@acme.test', 1, NULL, '2027-01-15T08:00:00.250Z', '2027-01-15T08:00:03.900Z', '2027-01-15T08:00:00Z'),
            ('in_listA', 'overdue', 0, 'failed', 'ap@acme.test', 10, E'550 5.1.1 mailbox\\nunavailable', '2027-02-01T09:30:00Z', NULL, '2027-02-01T09:30:00Z'),
            ('in_listB', 'due_soon', 0, 'pending', NULL, 0, NULL, '2027-02-02T23:59:59Z', NULL, '2027-02-02T23:59:59Z')`,
  );
});

afterAll(async () => {
  await db?.drop();
});

describe('billing notices list', () => {
  it('shows when each notice was created and sent, newest first, in aligned columns', () => {
    const r = run('notices', 'list');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split('\n')).toEqual([
      'CREATED               INVOICE   NOTICE            STATUS   SENT                  RECIPIENT     LAST ERROR',
      '2027-02-02T23:59:59Z  in_listB  due_soon#0        pending  -                     -',
      '2027-02-01T09:30:00Z  in_listA  overdue#0         failed   -                     ap@acme.test  550 5.1.1 mailbox unavailable',
      '2027-01-15T08:00:00Z  in_listA  invoice_issued#0  sent     2027-01-15T08:00:03Z  ap@acme.test',
    ]);
  });

  it('gives both times in JSON as ISO strings, null when not sent', () => {
    const rows = JSON.parse(run('notices', 'list', '--json').out) as Record<string, unknown>[];
    expect(rows.map((n) => [n['kind'], n['created_at'], n['sent_at']])).toEqual([
      ['due_soon', '2027-02-02T23:59:59.000Z', null],
      ['overdue', '2027-02-01T09:30:00.000Z', null],
      ['invoice_issued', '2027-01-15T08:00:00.250Z', '2027-01-15T08:00:03.900Z'],
    ]);
  });
});
