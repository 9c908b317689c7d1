import type { DataSource } from 'typeorm';
import { banner } from '../../src/run/banner';
import type { Database } from '../../src/run/resources';

const ds = {} as DataSource;
const embeddedUrl = 'postgres://billing:Gen3rated_pw-x@127.0.0.1:45678/billing';

describe('the banner', () => {
  it('prints a ready psql command for the embedded database', () => {
    const database: Database = { ds, url: embeddedUrl, embedded: true, server: { url: embeddedUrl, port: 45678, clusterDir: '/d/postgres' } };
    const text = banner({ database, roles: ['worker'] });
    expect(text).toContain('  database        postgres://billing:***@127.0.0.1:45678/billing   (embedded)');
    expect(text).toContain(`  psql            psql '${embeddedUrl}'`);
    // Inside DATA_DIR, as usual: nothing more to say.
    expect(text).not.toContain('database files');
  });

  it('says where the data lives, and why, when it is outside DATA_DIR', () => {
    const server = {
      url: embeddedUrl,
      port: 45678,
      clusterDir: '/var/lib/stripe-billing/data/0123456789abcdef/postgres',
      outsideDataDir: 'the postgres user cannot enter /root/app/.data',
      runsAs: 'as nobody: this system has no postgres user',
    };
    const text = banner({ database: { ds, url: embeddedUrl, embedded: true, server }, roles: ['worker'] });
    expect(text).toContain('  database files  /var/lib/stripe-billing/data/0123456789abcdef/postgres   (the postgres user cannot enter /root/app/.data)');
    expect(text).toContain('  PostgreSQL runs as nobody: this system has no postgres user');
  });

  it("never prints a configured DATABASE_URL's password", () => {
    const text = banner({ database: { ds, url: 'postgres://app:s3cret-configured@db.internal:5432/billing', embedded: false }, roles: ['worker'] });
    expect(text).not.toContain('s3cret-configured');
    expect(text).not.toContain('psql');
    expect(text).toContain('postgres://app:***@db.internal:5432/billing   (external)');
  });
});
