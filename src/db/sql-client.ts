import type { PoolClient } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/** The pg connection under a TypeORM transaction, for named statements (TypeORM's query takes text only). */
export type SqlClient = Pick<PoolClient, 'query'>;

const unnamedStatements = new WeakSet<DataSource>();

/**
 * Statements sent through sqlClientOf on this data source's connections go without their name:
 * PostgreSQL then parses each into the unnamed statement, which the next one replaces, so no
 * connection keeps a prepared statement (DATABASE_PREPARED_STATEMENTS=false, for RDS Proxy).
 */
export function sendStatementsUnnamed(ds: DataSource): void {
  unnamedStatements.add(ds);
}

/** The connection a transaction's EntityManager runs on; statements sent here join that transaction. */
export async function sqlClientOf(db: EntityManager): Promise<SqlClient> {
  const runner = db.queryRunner;
  if (!runner) throw new Error('sqlClientOf needs the EntityManager of a transaction');
  const client = (await runner.connect()) as SqlClient;
  return unnamedStatements.has(db.dataSource) ? withoutNames(client) : client;
}

function withoutNames(client: SqlClient): SqlClient {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  return { query: (config: unknown, ...rest: unknown[]) => query(unnamed(config), ...rest) } as SqlClient;
}

/** A copy of a `{ name, text, values }` config without its name; the original may be a shared constant. */
function unnamed(config: unknown): unknown {
  // A Submittable (a pg Query or cursor) drives the protocol itself and is passed on untouched.
  if (typeof config !== 'object' || config === null || !('name' in config) || 'submit' in config) return config;
  const copy: Record<string, unknown> = { ...config };
  delete copy['name'];
  return copy;
}

/**
 * `(…), (…)` for `rows` rows of `width` parameters each, numbered from $1; `cell(n, column)` writes
 * one placeholder, so a cast or a conversion can wrap it.
 */
export function valuesList(rows: number, width: number, cell: (n: number, column: number) => string): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < width; c++) cells.push(cell(r * width + c + 1, c));
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}

/**
 * Statements whose text depends only on a row count: built and named once per count, so each
 * connection parses and plans each shape once and afterwards only binds values.
 */
export function statementFamily(prefix: string, build: (rows: number) => string): (rows: number) => { name: string; text: string } {
  const cache = new Map<number, { name: string; text: string }>();
  return (rows) => {
    let s = cache.get(rows);
    if (!s) {
      s = { name: `${prefix}_${rows}`, text: build(rows) };
      cache.set(rows, s);
    }
    return s;
  };
}
