/**
 * `billing stats` on invoices whose metadata.reason (or a manual invoice's wallet_effect) this
 * version does not know: counted for scripts, one line for people. Paying them writes no entry,
 * so an operator learns of a platform's typo or new reason here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyEvent } from '../support/apply-event';
import { billingAsync, CLI, type CliResult } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { finalized, paidEvents, walletInvoice } from '../support/wallet-events';

const ACCOUNT = 'acct_WalletStats1';
let db: TestDatabase;
let dataDir: string;
let json: CliResult;
let human: CliResult;
let platformOnly: CliResult;
let otherAccount: CliResult;

beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/ is missing: run npm run build first');
  db = await createTestDatabase(2);
  // A DATA_DIR of its own, so no running `npm start` is found: the queue is reported as not running.
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-wallet-stats-'));
  const events = [
    // Unknown: two promo invoices (one paid, one open), a manual one with wallet_effect maybe, and
    // a connected account's promo.
    ...paidEvents(walletInvoice({ reason: 'promo' }), 'card'),
    finalized(walletInvoice({ reason: 'promo' })),
    finalized(walletInvoice({ reason: 'manual', wallet_effect: 'maybe' })),
    finalized(walletInvoice({ reason: 'promo' }, { account: ACCOUNT })),
    // A reason whose case differs is not the known one; one with a line break and an ANSI escape
    // (metadata is the platform's text) is reported, the human line showing them as spaces.
    finalized(walletInvoice({ reason: 'topup_Failed' })),
    finalized(walletInvoice({ reason: 'promo\n\u001b[31mred' })),
    // Known, or saying nothing: not reported.
    ...paidEvents(walletInvoice({ reason: 'topup_failed' }), 'out_of_band'),
    finalized(walletInvoice({ reason: 'overage' })),
    finalized(walletInvoice({ reason: 'manual', wallet_effect: 'credit' })),
    finalized(walletInvoice({ reason: 'manual', wallet_effect: 'none' })),
    finalized(walletInvoice({ reason: 'manual' })),
    finalized(walletInvoice({ reason: '' })),
    finalized(walletInvoice({})),
    finalized(walletInvoice({ reason: 'overage' }, { account: 'acct_WalletStats2' })),
  ];
  for (const e of events) await applyEvent(db.ds, JSON.stringify(e));
  const env = { DATABASE_URL: db.url, DATA_DIR: dataDir };
  [json, human, platformOnly, otherAccount] = await Promise.all([
    billingAsync(['stats', '--json'], env),
    billingAsync(['stats'], env),
    billingAsync(['stats', '--json', '--account', 'platform'], env),
    // An account with invoices of known reasons only.
    billingAsync(['stats', '--account', 'acct_WalletStats2'], env),
  ]);
});
afterAll(async () => {
  await db?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('billing stats, with wallet reasons this version does not know', () => {
  it('counts them for scripts, by reason and wallet_effect, and no other', () => {
    expect(json.err).toBe('');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out).wallet).toEqual({
      unknownReasons: [
        { reason: 'manual', walletEffect: 'maybe', count: 1 },
        { reason: 'promo', walletEffect: null, count: 3 },
        { reason: 'promo\n\u001b[31mred', walletEffect: null, count: 1 },
        { reason: 'topup_Failed', walletEffect: null, count: 1 },
      ],
    });
  });

  it('--account platform counts the platform’s own only', () => {
    expect(platformOnly.code).toBe(0);
    expect(JSON.parse(platformOnly.out).wallet.unknownReasons).toEqual([
      { reason: 'manual', walletEffect: 'maybe', count: 1 },
      { reason: 'promo', walletEffect: null, count: 2 },
      { reason: 'promo\n\u001b[31mred', walletEffect: null, count: 1 },
      { reason: 'topup_Failed', walletEffect: null, count: 1 },
    ]);
  });

  it('says so on one line for people', () => {
    expect(human.err).toBe('');
    expect(human.code).toBe(0);
    const lines = human.out.split('\n').filter((l) => l.startsWith('wallet'));
    expect(lines).toEqual([
      'wallet     invoices of reasons this version does not know (reason manual with wallet_effect maybe: 1, reason promo: 3, reason promo  [31mred: 1, reason topup_Failed: 1): paying them writes no ledger entry',
    ]);
    expect(human.out).not.toContain('\u001b');
  });

  it('says nothing of the wallet when every reason is known', () => {
    expect(otherAccount.err).toBe('');
    expect(otherAccount.code).toBe(0);
    expect(otherAccount.out).toMatch(/^invoices \(not deleted\)$/m);
    expect(otherAccount.out).not.toMatch(/^wallet/m);
  });
});
