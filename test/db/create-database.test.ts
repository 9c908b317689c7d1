import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createDatabaseIfMissing } from '../../src/db/create-database';

const adminUrl = (): string => {
  const url = process.env['TEST_PG_ADMIN_URL'];
  if (!url) throw new Error('TEST_PG_ADMIN_URL is not set: run the tests through jest (global setup starts PostgreSQL)');
  return url;
};

let admin: Client;
// Mixed case and a space: created only if the name reaches the server quoted, exactly as given.
const name = `Billing Created ${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
});

afterAll(async () => {
  await admin?.query(`DROP DATABASE IF EXISTS ${admin.escapeIdentifier(name)} WITH (FORCE)`);
  await admin?.end();
});

const copies = async (): Promise<number> =>
  Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_database WHERE datname = $1', [name])).rows[0]!.n);

it('creates the database under exactly the given name, then leaves it be', async () => {
  expect(await copies()).toBe(0);
  await createDatabaseIfMissing(admin, name);
  expect(await copies()).toBe(1);
  await createDatabaseIfMissing(admin, name);
  expect(await copies()).toBe(1);
});
