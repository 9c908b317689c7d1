import { minorUnitDigits } from '../../src/mail/money';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

describe('the currency exponent in SQL and in money.ts', () => {
  it('agree on every three-letter code', async () => {
    // Every code, not only today's lists, so a currency added on one side alone fails here.
    const rows: { code: string; digits: number }[] = await db.ds.query(
      `SELECT code, finance_minor_unit_digits(code) AS digits
         FROM (SELECT chr(97 + a) || chr(97 + b) || chr(97 + c) AS code
                 FROM generate_series(0, 25) a, generate_series(0, 25) b, generate_series(0, 25) c) codes`,
    );
    expect(rows).toHaveLength(26 ** 3);
    const disagreements = rows.filter((r) => r.digits !== minorUnitDigits(r.code)).map((r) => r.code);
    expect(disagreements).toEqual([]);
    expect(rows.filter((r) => r.digits === 0).length).toBeGreaterThan(10);
    expect(rows.filter((r) => r.digits === 3).length).toBeGreaterThan(3);
  });

  it('ignores case, as money.ts does', async () => {
    const [r]: { jpy: number; kwd: number }[] = await db.ds.query(`SELECT finance_minor_unit_digits('JPY') AS jpy, finance_minor_unit_digits('KwD') AS kwd`);
    expect(r).toEqual({ jpy: 0, kwd: 3 });
  });

  it('gives exact major units with the currency’s scale', async () => {
    const [r]: Record<string, string>[] = await db.ds.query(
      `SELECT finance_major_units(1000, 'usd') AS usd, finance_major_units(1000, 'jpy') AS jpy,
              finance_major_units(1, 'kwd') AS kwd, finance_major_units(9007199254740993, 'usd') AS big,
              finance_major_units(-250, 'eur') AS negative`,
    );
    expect(r).toEqual({ usd: '10.00', jpy: '1000', kwd: '0.001', big: '90071992547409.93', negative: '-2.50' });
  });
});
