import { daysPastDue } from '../../src/billing/days';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(2);
});
afterAll(async () => {
  await db.drop();
});

const DAY = 86_400;
const at = (iso: string) => Date.parse(iso) / 1000;

// Due moments at and around UTC midnight, at noon, on a leap day, at a year's end and before 1970.
const DUES: Array<number | null> = [
  ...['2026-03-01T00:00:00Z', '2026-03-01T12:00:00Z', '2024-02-29T23:59:59Z', '2026-12-31T23:59:59Z', '1969-12-31T23:59:59Z', '2026-06-15T17:42:13Z'].flatMap((iso) => [
    at(iso) - 1,
    at(iso),
    at(iso) + 1,
  ]),
  null,
];

/** Moments around the due moment, around each following UTC midnight, and at the 30/60/90-day bucket edges. */
function asOfMoments(due: number): number[] {
  const near = [-DAY, -3600, -1, 0, 1, 2, 59, 3600, DAY - 1, DAY, DAY + 1].map((d) => due + d);
  const dueMidnight = Math.floor(due / DAY) * DAY;
  const midnights = [0, 1, 2, 3, 29, 30, 31, 32, 59, 60, 61, 62, 89, 90, 91, 92, 365, 366].flatMap((k) => {
    const m = dueMidnight + k * DAY;
    return [m - 1, m, m + 1, m + DAY / 2];
  });
  return [...near, ...midnights];
}

describe('finance_days_past_due and daysPastDue (src/billing/days.ts)', () => {
  it('agree on every boundary: around the due moment, UTC midnights and bucket edges, and without a due date', async () => {
    const pairs = DUES.flatMap((due) => asOfMoments(due ?? at('2026-03-01T00:00:00Z')).map((asOf) => [due, asOf] as const));
    const rows: { days: number }[] = await db.ds.query(
      `SELECT finance_days_past_due(to_timestamp(d), to_timestamp(a)) AS days
         FROM unnest($1::double precision[], $2::double precision[]) WITH ORDINALITY AS p(d, a, n)
        ORDER BY n`,
      [pairs.map(([d]) => d), pairs.map(([, a]) => a)],
    );
    expect(rows).toHaveLength(pairs.length);
    const disagreements = pairs
      .map(([due, asOf], i) => ({
        due: due === null ? null : new Date(due * 1000).toISOString(),
        asOf: new Date(asOf * 1000).toISOString(),
        sql: rows[i]!.days,
        ts: daysPastDue(due, asOf),
      }))
      .filter((c) => c.sql !== c.ts);
    expect(disagreements).toEqual([]);
    // The cases reach every bucket, so agreement is not agreement on zeros alone.
    const counts = new Set(rows.map((r) => r.days));
    for (const days of [0, 1, 2, 30, 31, 60, 61, 90, 91]) expect(counts).toContain(days);
  });

  it('counts calendar days in UTC, not started 24-hour periods', async () => {
    // 46 hours late but one UTC midnight later: day 1 (ceil(seconds / 86400) said 2).
    const [r]: { late: number; sameDay: number }[] = await db.ds.query(
      `SELECT finance_days_past_due('2026-06-01T01:00:00Z', '2026-06-02T23:00:00Z') AS late,
              finance_days_past_due('2026-06-01T09:00:00Z', '2026-06-01T09:00:15Z') AS "sameDay"`,
    );
    expect(r).toEqual({ late: 1, sameDay: 1 });
  });
});
