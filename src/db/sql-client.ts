import type { PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';

/** The pg connection under a TypeORM transaction, for named statements (TypeORM's query takes text only). */
export type SqlClient = Pick<PoolClient, 'query'>;

/** The connection a transaction's EntityManager runs on; statements sent here join that transaction. */
export async function sqlClientOf(db: EntityManager): Promise<SqlClient> {
  const runner = db.queryRunner;
  if (!runner) throw new Error('sqlClientOf needs the EntityManager of a transaction');
  return (await runner.connect()) as SqlClient;
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
