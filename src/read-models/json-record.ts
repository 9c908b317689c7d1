import type { ColumnKind, ColumnSpec, DbRow } from '../db/finance-columns';

export type JsonValue = string | number | boolean | null | { readonly [key: string]: unknown };

function jsonValue(value: unknown, kind: ColumnKind): JsonValue {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'time':
      return (value as Date).toISOString();
    // Numbers, so scripts can add them up; Stripe amounts have at most 12 digits, far inside
    // the 2^53 that a JSON number holds exactly, and major units keep their few decimals.
    case 'cents':
    case 'amount':
    case 'integer':
      return Number(value);
    case 'boolean':
      return Boolean(value);
    case 'text':
      return String(value);
    // jsonb arrives parsed: the object itself, not its text.
    case 'json':
      return value as { readonly [key: string]: unknown };
  }
}

/** One object per row with the keys in the column list's order, whatever the view adds later. */
export function toJsonRecord(row: DbRow, columns: readonly ColumnSpec[]): Record<string, JsonValue> {
  const record: Record<string, JsonValue> = {};
  for (const [name, kind] of columns) record[name] = jsonValue(row[name], kind);
  return record;
}
