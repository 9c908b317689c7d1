export interface TableColumn {
  header: string;
  /** Numbers read best right-aligned, so their decimal points line up. */
  right?: boolean;
  /** Longer cells are cut with an ellipsis, so one long name cannot push every row off screen. */
  max?: number;
}

// Names come from customers: a line break, an ANSI escape or a bidi override in one would break
// the layout or drive the terminal, so they are shown as spaces.
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/gu;

export function printable(text: string, max = Infinity): string {
  const flat = text.replace(UNPRINTABLE, ' ');
  const chars = [...flat];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat;
}

/** Columns padded to their widest cell, two spaces apart; widths count code points. */
export function renderTable(columns: readonly TableColumn[], rows: readonly string[][]): string {
  const cells = rows.map((row) => row.map((c, i) => printable(c, columns[i]?.max)));
  const widths = columns.map((col, i) => Math.max([...col.header].length, ...cells.map((r) => [...(r[i] ?? '')].length)));
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - [...c].length);
        return columns[i]?.right ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** "1234567.89" → "1,234,567.89", on the decimal text, so no digit goes through a float. */
export function groupThousands(decimal: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(decimal);
  if (m === null) return decimal;
  return `${m[1]}${m[2]!.replace(/\B(?=(\d{3})+$)/g, ',')}${m[3] ?? ''}`;
}
