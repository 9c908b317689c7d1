import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { billing as run, CLI } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** `billing events prune` as a person or a cron job runs it: the build, in a child process. */

const BULK = 2500;

let db: TestDatabase;
let dataDir: string;
beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error('dist/src/cli.js is missing: run npm run build first');
  db = await createTestDatabase(2);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'billing-prune-cli-'));
  // More processed events than one batch (1000) holds, a year old; and two never processed, older still.
  await db.ds.query(
    `INSERT INTO stripe_events (id, type, created, livemode, payload, received_at, processed_at, attempts)
     SELECT 'evt_cli_' || lpad(g::text, 5, '0'), 'invoice.updated', now() - interval '365 days', false,
            jsonb_build_object('id', 'evt_cli_' || g, 'pad', repeat('x', 100)), now() - interval '365 days', now() - interval '365 days', 1
       FROM generate_series(1, $1) AS g`,
    [BULK],
  );
  await db.ds.query(
    `INSERT INTO stripe_events (id, type, created, livemode, payload, received_at, attempts, last_error)
     VALUES ('evt_cli_stuck_1', 'invoice.paid', now() - interval '500 days', false, '{"id":"evt_cli_stuck_1"}', now() - interval '500 days', 5, 'Error: boom'),
            ('evt_cli_stuck_2', 'invoice.paid', now() - interval '500 days', false, '{"id":"evt_cli_stuck_2"}', now() - interval '500 days', 0, NULL)`,
  );
});
afterAll(async () => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  await db?.drop();
});

const billing = (...args: string[]) => run(args, { DATABASE_URL: db.url, DATA_DIR: dataDir });
const pruned = async (): Promise<number> => (await db.ds.query(`SELECT count(*)::int AS n FROM stripe_events WHERE payload IS NULL`))[0].n;

describe('billing events prune', () => {
  it.each([
    [['--processed-before', 'banana'], /--processed-before: an age like 90d, 12h or 2w/],
    [['--processed-before', '0d'], /--processed-before: an age like 90d, 12h or 2w/],
    [['--processed-before', '-3d'], /--processed-before: an age like 90d, 12h or 2w/],
    [['--processed-before', '90'], /--processed-before: an age like 90d, 12h or 2w/],
    [[], /required option '--processed-before <age>' not specified/],
    [['--processed-before', '90d', '--invoice', 'in_123'], /--invoice: an option of `billing events`, not of `billing events prune`/],
    [['--processed-before', '90d', '--limit', '5', '--failed'], /--failed, --limit: options of `billing events`, not of `billing events prune`/],
  ])('refuses %j with exit 2 and changes nothing', async (args, message) => {
    const r = billing('events', 'prune', ...args);
    expect(r.err).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(await pruned()).toBe(0);
  });

  it('--dry-run counts events and bytes, as JSON or in words, and changes nothing', async () => {
    const json = billing('events', 'prune', '--processed-before', '90d', '--dry-run', '--json');
    expect(json.code).toBe(0);
    const result = JSON.parse(json.out);
    expect(result).toEqual({ pruned: BULK, bytes: expect.any(Number), processedBefore: expect.any(String), dryRun: true, batches: 0 });
    expect(result.bytes).toBeGreaterThan(BULK * 100);
    expect(Date.now() - Date.parse(result.processedBefore)).toBeGreaterThanOrEqual(90 * 86_400_000);
    expect(Date.now() - Date.parse(result.processedBefore)).toBeLessThan(90 * 86_400_000 + 60_000);

    const words = billing('events', 'prune', '--processed-before', '2w', '--dry-run');
    expect(words.code).toBe(0);
    expect(words.out).toMatch(new RegExp(`^${BULK} event\\(s\\) processed before \\S+Z would lose their payload: \\d+\\.\\d KiB as stored \\(dry run, nothing changed\\)\\n$`));
    expect(await pruned()).toBe(0);
  });

  it('prunes in batches, says how many events and bytes, and `events` then says which payloads are gone', async () => {
    // `--json` belongs to `events` as well: either place works.
    const r = billing('events', '--json', 'prune', '--processed-before', '90d');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ pruned: BULK, dryRun: false, batches: 3 });
    expect(await pruned()).toBe(BULK);
    // The unprocessed and failing events, older still, keep their payloads.
    expect(await db.ds.query(`SELECT id FROM stripe_events WHERE payload IS NOT NULL ORDER BY id`)).toEqual([{ id: 'evt_cli_stuck_1' }, { id: 'evt_cli_stuck_2' }]);

    const listed = billing('events', '--limit', '2');
    expect(listed.code).toBe(0);
    expect(listed.out.trim().split('\n')).toEqual([
      expect.stringMatching(/ evt_cli_\d{5}  invoice\.updated  -  processed, payload pruned \d{4}-\d\d-\d\dT[\d:.]+Z$/),
      expect.stringMatching(/ processed, payload pruned /),
    ]);
    const asJson = JSON.parse(billing('events', '--limit', '1', '--json').out);
    expect(asJson[0]).toMatchObject({ processedAt: expect.any(String), payloadPrunedAt: expect.any(String) });

    const again = billing('events', 'prune', '--processed-before', '90d');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^no event processed before \S+Z has a payload left to prune\n$/);
  });

  it('in words, after a prune: events, bytes and batches', async () => {
    await db.ds.query(
      `INSERT INTO stripe_events (id, type, created, livemode, payload, received_at, processed_at, attempts)
       VALUES ('evt_cli_late', 'invoice.paid', now() - interval '30 days', false, '{"id":"evt_cli_late"}', now() - interval '30 days', now() - interval '30 days', 1)`,
    );
    const r = billing('events', 'prune', '--processed-before', '3w');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^pruned the payloads of 1 event\(s\) processed before \S+Z: \d+ B as stored, in 1 batch\(es\); ids, types and times are kept\n$/);
  });
});
