import type { EntityManager } from 'typeorm';
import type { ObjectRepository } from './object-repository';
import { statementFamily, valuesList, type SqlClient } from './sql-client';

/** How a field is stored: its SQL type, or a conversion (unix seconds ↔ timestamptz, cents ↔ bigint). */
export type ColumnKind = 'text' | 'boolean' | 'integer' | 'seconds' | 'cents' | 'json';

/** A row type's fields and the columns that hold them; the first is the key the row merges under. */
export type ColumnList<R> = ReadonlyArray<readonly [keyof R & string, string, ColumnKind]>;

export interface ObjectTableSpec<R> {
  table: string;
  /** The first column is the object's Stripe id, unique in the table. */
  columns: ColumnList<R>;
}

/** An object's table as its repository sees it: the write path, and the pieces its other queries reuse. */
export interface ObjectTable<R> extends ObjectRepository<R> {
  readonly table: string;
  readonly columns: ColumnList<R>;
  /** The select list that reads a row back (times as unix seconds). */
  readonly selectList: string;
  fromRow(row: Record<string, unknown>): R;
  /** The row of this id, unlocked. */
  findOne(db: EntityManager, id: string): Promise<R | null>;
}

/** Casts spelled out, so the same placeholders also type a VALUES list, where no column implies one. */
export const placeholder = (kind: ColumnKind, n: number): string =>
  kind === 'seconds' ? `to_timestamp($${n}::double precision)` : kind === 'cents' ? `$${n}::bigint` : kind === 'json' ? `$${n}::jsonb` : `$${n}::${kind}`;

/**
 * The repository of a table that holds one row per Stripe object, built from its column list: one
 * list drives select, insert and update, so a kind's table is its columns and nothing else. Rows
 * are locked, inserted and updated in key order, so transactions writing overlapping sets queue
 * behind each other instead of deadlocking.
 */
export function objectTable<R>({ table, columns }: ObjectTableSpec<R>): ObjectTable<R> {
  const [keyField, keyColumn] = columns[0]!;
  const width = columns.length;
  const names = columns.map(([, c]) => c).join(', ');
  const selectList = columns.map(([, col, kind]) => (kind === 'seconds' ? `extract(epoch from ${col})::bigint AS ${col}` : col)).join(', ');
  const cells = valuesCells(columns);

  const fromRow = (row: Record<string, unknown>): R => {
    const state: Record<string, unknown> = {};
    for (const [field, col, kind] of columns) {
      const v = row[col];
      state[field] = (kind === 'seconds' || kind === 'cents') && v !== null && v !== undefined ? Number(v) : v;
    }
    return state as R;
  };
  const params = (row: R): unknown[] => columns.map(([field, , kind]) => (kind === 'json' ? JSON.stringify(row[field]) : row[field]));
  const keyOf = (row: R) => row[keyField] as unknown as string;
  const byKey = (a: R, b: R) => (keyOf(a) < keyOf(b) ? -1 : 1);
  const rowsByKey = (rows: Record<string, unknown>[]) => new Map(rows.map((r) => [r[keyColumn] as string, fromRow(r)]));

  const lockMany = { name: `lock_${table}`, text: `SELECT ${selectList} FROM ${table} WHERE ${keyColumn} = ANY($1::text[]) ORDER BY ${keyColumn} FOR UPDATE` };
  const insertMany = statementFamily(
    `insert_${table}`,
    (n) => `INSERT INTO ${table} (${names}) VALUES ${valuesList(n, width, cells)} ON CONFLICT (${keyColumn}) DO NOTHING RETURNING ${keyColumn}`,
  );
  const updateMany = statementFamily(
    `update_${table}`,
    (n) => `UPDATE ${table} AS t SET ${columns
      .slice(1)
      .map(([, c]) => `${c} = v.${c}`)
      .join(', ')}, updated_at = now()
      FROM (VALUES ${valuesList(n, width, cells)}) AS v(${names})
      WHERE t.${keyColumn} = v.${keyColumn}`,
  );

  return {
    table,
    columns,
    selectList,
    fromRow,
    async findOne(db, id) {
      const rows: Record<string, unknown>[] = await db.query(`SELECT ${selectList} FROM ${table} WHERE ${keyColumn} = $1`, [id]);
      return rows.length === 0 ? null : fromRow(rows[0]!);
    },
    async find(db, keys) {
      if (keys.length === 0) return new Map();
      return rowsByKey(await db.query(`SELECT ${selectList} FROM ${table} WHERE ${keyColumn} = ANY($1::text[])`, [keys]));
    },
    async lock(c, keys) {
      return rowsByKey((await c.query<Record<string, unknown>>({ ...lockMany, values: [keys] })).rows);
    },
    async insert(c: SqlClient, rows) {
      if (rows.length === 0) return [];
      const sorted = [...rows].sort(byKey);
      const res = await c.query<Record<string, string>>({ ...insertMany(sorted.length), values: sorted.flatMap(params) });
      const inserted = new Set(res.rows.map((r) => r[keyColumn]));
      return sorted.map(keyOf).filter((k) => !inserted.has(k));
    },
    async update(c: SqlClient, rows) {
      if (rows.length === 0) return;
      const sorted = [...rows].sort(byKey);
      await c.query({ ...updateMany(sorted.length), values: sorted.flatMap(params) });
    },
  };
}

function valuesCells<R>(columns: ColumnList<R>): (n: number, column: number) => string {
  return (n, c) => placeholder(columns[c]![2], n);
}
