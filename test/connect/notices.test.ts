/**
 * NOTICE_ACCOUNTS: whose invoices get emails. A Standard connected account sends its own, so a
 * platform can keep its mailer to its own invoices (or to the accounts it bills for). Real
 * PostgreSQL, the consumer's own notice effects.
 */
import { policyFor } from '../../src/billing/notice-plan';
import { loadConfig } from '../../src/config';
import { noticeEffects, noticePolicy } from '../../src/effects/notice-effects';
import { applyEvent } from '../support/apply-event';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL_NOTICES } from '../support/notice-policy';
import { ofAccount, paidLifecycle, uid } from '../support/stripe-events';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** An invoice's whole lifecycle, of an account or the platform's own, through the consumer's path; then its outbox. */
async function lifecycle(account: string | null, accounts: 'all' | ReadonlySet<string>) {
  const id = uid('in');
  const now = 1_700_000_000;
  const effects = { notices: noticeEffects({ ...ALL_NOTICES, accounts }) };
  for (const e of paidLifecycle(id, now)) await applyEvent(db.ds, JSON.stringify(account ? ofAccount(e, account) : e), { effects, nowSeconds: () => now + 120 });
  const rows: Array<{ kind: string }> = await db.ds.query(`SELECT kind FROM email_notices WHERE stripe_invoice_id = $1 ORDER BY id`, [id]);
  return rows.map((r) => r.kind);
}

describe('NOTICE_ACCOUNTS', () => {
  it('by default every owner’s invoices get their emails, as before Connect accounts were kept', async () => {
    expect(loadConfig({}).mail.noticeAccounts).toBe('all');
    expect(await lifecycle('acct_1Mails', 'all')).toEqual(expect.arrayContaining(['invoice_issued', 'invoice_paid']));
  });

  it('platform: a connected account’s invoices get none, the platform’s own theirs', async () => {
    const platform = new Set(['platform']);
    expect(await lifecycle('acct_1Standard', platform)).toEqual([]);
    expect(await lifecycle(null, platform)).toEqual(expect.arrayContaining(['invoice_issued', 'invoice_paid']));
  });

  it('names the accounts whose customers hear from the platform', async () => {
    const some = new Set(['acct_1Billed']);
    expect(await lifecycle('acct_1Billed', some)).toEqual(expect.arrayContaining(['invoice_issued', 'invoice_paid']));
    expect(await lifecycle('acct_1Other', some)).toEqual([]);
    expect(await lifecycle(null, some)).toEqual([]);
  });

  it('is read from the environment and refuses what is neither platform nor an account id', () => {
    expect(noticePolicy(loadConfig({ NOTICE_ACCOUNTS: 'platform, acct_1Billed' })).accounts).toEqual(new Set(['platform', 'acct_1Billed']));
    expect(noticePolicy(loadConfig({ NOTICE_ACCOUNTS: 'all' })).accounts).toBe('all');
    for (const bad of ['everyone', 'acct_', 'platform,cus_1', ',']) expect(() => loadConfig({ NOTICE_ACCOUNTS: bad })).toThrow(/NOTICE_ACCOUNTS/);
  });

  it('leaves the policy as it is for an owner it names, and turns every kind off for the others', () => {
    const policy = { ...ALL_NOTICES, accounts: new Set(['platform']) };
    expect(policyFor(policy, null)).toBe(policy);
    expect(policyFor(policy, 'acct_1X').enabled.size).toBe(0);
    expect(policyFor(ALL_NOTICES, 'acct_1X')).toBe(ALL_NOTICES);
  });
});
