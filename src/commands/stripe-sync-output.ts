import type { AlertReport } from '../recovery/health-repair';
import type { FieldDifference } from '../billing/repair';
import { COLUMNS } from '../db/invoices';
import type { BackfillResult, EventRef } from '../recovery/backfill';
import type { ImportedCounts, ImportResult } from '../recovery/import';
import type { ObjectReport, ReconcileResult } from '../recovery/reconcile';

/** Differences are named by the invoices table's columns: engineers know those. */
const COLUMN_OF = new Map<string, string>(COLUMNS.map(([field, column]) => [field, column]));
const columnName = (field: string) => COLUMN_OF.get(field) ?? field;

const TIME_FIELDS = new Set<string>(COLUMNS.filter(([, , kind]) => kind === 'seconds').map(([field]) => field));

/** Timestamps as ISO (as the columns read in SQL); everything else as is. */
function displayValue(field: string, value: unknown): unknown {
  if (TIME_FIELDS.has(field) && typeof value === 'number') return new Date(value * 1000).toISOString();
  return value;
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface DifferenceView {
  field: string;
  ours: unknown;
  stripe: unknown;
}

export function differenceView(d: FieldDifference): DifferenceView {
  return { field: columnName(d.field), ours: displayValue(d.field, d.ours), stripe: displayValue(d.field, d.stripe) };
}

/**
 * A related object's field as its column is named (every money table names its columns so:
 * amountRefundedCents is amount_refunded_cents), times (`…At`, unix seconds) as ISO.
 */
function rowDifferenceView(d: { field: string; ours: unknown; stripe: unknown }): DifferenceView {
  const time = (v: unknown) => (d.field.endsWith('At') && typeof v === 'number' ? new Date(v * 1000).toISOString() : v);
  return { field: d.field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), ours: time(d.ours), stripe: time(d.stripe) };
}

/** The JSON report: fields named as columns, timestamps as ISO strings. */
export function reconcileJson(r: ReconcileResult) {
  return {
    ...r,
    invoices: r.invoices.map((i) => ({ ...i, differences: i.differences.map(differenceView) })),
    objects: r.objects.map((o) => ({ ...o, differences: o.differences.map(rowDifferenceView) })),
  };
}

/** `invoice_payment` → `invoice payments`, for a person. */
const plural = (object: string) => `${object.replace(/_/g, ' ')}s`;
/** The longest of the related kinds' names, so their counts line up. */
const KIND_WIDTH = 'invoice payments'.length + 1;

const window = (since: string, until: string | null) => `${since} … ${until ?? 'now'}`;
/** Whose objects a run read: a connected account's (`--account`), else nothing is said (the platform's own). */
const ofAccount = (account: string | null) => (account === null ? '' : ` of connected account ${account}`);

export function reconcileText(r: ReconcileResult): string {
  const would = r.dryRun ? 'would be ' : '';
  const lines = [
    `${r.dryRun ? 'dry run: ' : ''}invoices${ofAccount(r.account)} created ${window(r.since, r.until)}: ${r.listed} listed, ${r.unchanged} unchanged, ` +
      `${r.repaired} ${would}repaired, ${r.inserted} ${would}inserted, ${r.skipped} skipped, ${r.invalid} invalid`,
  ];
  for (const i of r.invoices) {
    if (i.action === 'inserted') lines.push(`  ${i.invoice}  no row → ${would}inserted (${i.status})`);
    else if (i.action === 'invalid') lines.push(`  ${i.invoice}  invalid: ${i.reason}`);
    else {
      if (i.action === 'skipped') lines.push(`  ${i.invoice}  skipped: ${i.reason}`);
      for (const d of i.differences.map(differenceView)) {
        lines.push(`  ${i.invoice}  ${d.field.padEnd(24)} ${asText(d.ours)} → ${asText(d.stripe)}`);
      }
    }
  }
  lines.push('the money behind them:');
  for (const [object, c] of Object.entries(r.related)) {
    lines.push(`  ${`${plural(object)}:`.padEnd(KIND_WIDTH)} ${c.listed} listed, ${c.unchanged} unchanged, ${c.repaired} ${would}repaired, ${c.inserted} ${would}inserted, ${c.invalid} invalid`);
  }
  for (const o of r.objects) lines.push(...objectLines(o, would));
  return lines.join('\n');
}

function objectLines(o: ObjectReport, would: string): string[] {
  const name = o.object.replace(/_/g, ' ');
  if (o.action === 'inserted') return [`  ${o.id}  no row → ${would}inserted (${name})`];
  if (o.action === 'invalid') return [`  ${o.id}  invalid ${name}: ${o.reason}`];
  return o.differences.map(rowDifferenceView).map((d) => `  ${o.id}  ${d.field.padEnd(24)} ${asText(d.ours)} → ${asText(d.stripe)}`);
}

function importedLine(object: string, c: ImportedCounts, would: string): string {
  return `  ${`${plural(object)}:`.padEnd(KIND_WIDTH)} ${count(c.listed)} listed, ${count(c.inserted)} ${would}inserted, ${count(c.updated)} ${would}updated, ${count(c.unchanged)} unchanged, ${count(c.invalid)} invalid`;
}

const refLine = (e: EventRef) => `  ${e.id}  ${e.type}${e.objectId ? `  ${e.objectId}` : ''}`;

export function backfillText(r: BackfillResult): string {
  const lines = [
    `${r.dryRun ? 'dry run: ' : ''}events${ofAccount(r.account)} created ${window(r.since, r.until)}: ${r.listed} listed in ${r.pages} page(s)`,
    `  ${r.dryRun ? 'would enqueue' : 'enqueued'}  ${r.enqueued}`,
    `  already stored  ${r.alreadyKnown}`,
    `  skipped (carried by no kind this processor keeps)  ${r.skipped}`,
  ];
  // A dry run is for reading what would happen; a real run lists only what it left out.
  if (r.dryRun && r.ids.enqueued.length > 0) lines.push('would enqueue:', ...r.ids.enqueued.map(refLine));
  if (r.ids.skipped.length > 0) lines.push('skipped:', ...r.ids.skipped.map(refLine));
  return lines.join('\n');
}

const count = (n: number) => n.toLocaleString('en-US');

export function importText(r: ImportResult): string {
  const would = r.dryRun ? 'would be ' : '';
  const byStatus = Object.entries(r.insertedByStatus)
    .map(([status, n]) => `${status} ${count(n)}`)
    .join(', ');
  const lines = [
    `${r.dryRun ? 'dry run: ' : ''}invoices${ofAccount(r.account)} created ${window(r.since, r.until)}: ${count(r.listed)} listed in ${r.pages} page(s)`,
    `  ${would}inserted   ${count(r.inserted)}${byStatus ? `   (${byStatus})` : ''}`,
    `  ${would}updated    ${count(r.updated)}`,
    `  unchanged  ${count(r.unchanged)}`,
    `  invalid    ${count(r.invalid)}`,
  ];
  for (const i of r.invoices) lines.push(i.action === 'invalid' ? `  ${i.invoice}  invalid: ${i.reason}` : `  ${i.invoice}  ${would}updated (${i.status})`);
  lines.push('the money behind them:', ...Object.entries(r.related).map(([object, c]) => importedLine(object, c, would)));
  for (const o of r.objects) lines.push(o.action === 'invalid' ? `  ${o.id}  invalid ${o.object.replace(/_/g, ' ')}: ${o.reason}` : `  ${o.id}  ${would}updated (${o.object.replace(/_/g, ' ')})`);
  lines.push(
    r.dryRun
      ? "nothing was written; no email would be sent about the invoices' past"
      : `${count(r.noticesSkipped)} notice(s) recorded as not sent (the invoices' past); reminders continue from each invoice's next step`,
  );
  // News found on the way (a payment made while the import ran) goes out as usual.
  if (!r.dryRun && r.noticesQueued > 0) lines.push(`${count(r.noticesQueued)} notice(s) queued: what changed since the import began, or since a known row's last event`);
  return lines.join('\n');
}

/** `reconcile --alerts`: each of Stripe's health alerts and what its repair did. */
export function alertsText(alerts: readonly AlertReport[], dryRun: boolean): string {
  if (alerts.length === 0) return "Stripe's health alerts: none waiting for repair";
  const head = dryRun
    ? `dry run: ${alerts.length} health alert(s) would be repaired`
    : `Stripe's health alerts: ${alerts.filter((a) => a.action !== 'failed').length} repaired, ${alerts.filter((a) => a.action === 'failed').length} failed (still pending)`;
  const lines = alerts.map((a) => {
    if (a.action === 'pending') return `  ${a.id}  pending`;
    if (a.action === 'reconciled') return `  ${a.id}  invoice ${a.invoice} reconciled${a.reason ? ` (invalid: ${a.reason})` : ''}`;
    return `  ${a.id}  ${a.action.replace('_', ' ')}: ${a.reason ?? ''}`;
  });
  return [head, ...lines].join('\n');
}
