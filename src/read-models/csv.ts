import { stringify } from 'csv-stringify/sync';
import type { ColumnKind, ColumnSpec, DbRow } from '../db/finance-columns';

// OWASP's CSV-injection list (plus the full-width forms that Apple Numbers folds into them):
// a cell starting with one of these is read by spreadsheets as a formula.
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * Prefixes a text cell that a spreadsheet would run as a formula with an apostrophe, as OWASP
 * recommends. Only text columns pass through here: amounts are ours, never user input, and a
 * negative number must stay a number.
 */
export function neutralizeFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function cell(value: unknown, kind: ColumnKind): string {
  if (value === null || value === undefined) return '';
  switch (kind) {
    case 'time':
      return (value as Date).toISOString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'text':
      return neutralizeFormula(String(value));
    // JSON text: an object's starts with "{", which no spreadsheet runs; guarded all the same,
    // since a jsonb value need not be an object.
    case 'json':
      return neutralizeFormula(JSON.stringify(value));
    // PostgreSQL's own decimal text: exact, a dot as separator, no grouping.
    case 'cents':
    case 'amount':
    case 'integer':
      return String(value);
  }
}

/**
 * RFC 4180 CSV with a header row: CRLF line ends, fields quoted when they hold a comma, quote or
 * line break, quotes doubled. The UTF-8 byte-order mark is what makes Excel read names such as
 * "Müller" as UTF-8 rather than as the Windows code page; other spreadsheets ignore it.
 */
export function toCsv(rows: readonly DbRow[], columns: readonly ColumnSpec[]): string {
  return stringify(
    rows.map((row) => columns.map(([name, kind]) => cell(row[name], kind))),
    { header: true, columns: columns.map(([name]) => name), record_delimiter: 'windows', bom: true },
  );
}
