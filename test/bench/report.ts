// One table for the whole suite: each figure beside the baseline measured in the same run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Target {
  /** What is compared with the limit: the figure itself, or its ratio to the baseline. */
  on: 'value' | 'ratio';
  op: '>=' | '<=';
  limit: number;
  /** Shown beside the target; never decides pass or fail. */
  stretch?: number;
}

export interface Row {
  figure: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number | null;
  ratio: number | null;
  target: Target | null;
  pass: boolean | null;
  /** How the figure was taken: rounds, sizes, what a reader needs to judge it. */
  note: string;
}

export const median = (xs: number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export function row(r: Omit<Row, 'ratio' | 'pass'> & { ratio?: number | null }): Row {
  const ratio = r.ratio !== undefined ? r.ratio : r.baselineValue ? r.value / r.baselineValue : null;
  let pass: boolean | null = null;
  if (r.target) {
    const x = r.target.on === 'value' ? r.value : ratio;
    pass = x === null || !Number.isFinite(x) ? false : r.target.op === '>=' ? x >= r.target.limit : x <= r.target.limit;
  }
  return { ...r, ratio, pass };
}

const num = (n: number | null, digits = 1) => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(digits));

function describeTarget(r: Row): string {
  const t = r.target;
  if (!t) return '-';
  const op = t.op === '>=' ? '≥' : '≤';
  const limit = t.on === 'ratio' ? `${t.limit}×` : `${t.limit} ${r.unit}`;
  return `${op} ${limit}${t.stretch !== undefined ? ` (stretch ${op} ${t.stretch}×)` : ''}`;
}

export function markdownTable(rows: Row[]): string {
  const lines = [
    '| figure | value | baseline | baseline value | ratio | target | result |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.figure} | ${num(r.value)} ${r.unit} | ${r.baseline} | ${num(r.baselineValue)} | ${num(r.ratio, 2)} | ${describeTarget(r)} | ${r.pass === null ? '-' : r.pass ? 'pass' : '**FAIL**'} |`,
    ),
  ];
  return lines.join('\n');
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}`;
}

export function writeJson(file: string, content: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}
