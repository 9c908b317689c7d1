import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the fault suite with npm run test:faults (its global setup sets it)`);
  return v;
}

/** The run's shared directory (logs/, figures/), made by the global setup. */
export const runDir = () => required('FAULTS_RUN_DIR');
export const logDir = () => path.join(runDir(), 'logs');

/** Secrets made for this run only, so that finding one in a log can only mean it leaked. */
export const secrets = () => ({
  webhook: required('FAULTS_WEBHOOK_SECRET'),
  stripeKey: required('FAULTS_STRIPE_KEY'),
  smtpPassword: required('FAULTS_SMTP_PASSWORD'),
  databasePassword: decodeURIComponent(new URL(required('TEST_PG_ADMIN_URL')).password),
});

/**
 * FAULTS_SCALE shrinks a development run: counts and durations are multiplied by it (never below
 * `min`). The figures hold only at 1, the default.
 */
export const SCALE = (() => {
  const s = Number(process.env['FAULTS_SCALE'] ?? 1);
  if (!(s > 0 && s <= 1)) throw new Error('FAULTS_SCALE must be in (0, 1]');
  return s;
})();
export const scaled = (full: number, min = 1) => Math.max(min, Math.round(full * SCALE));

/**
 * A scenario's figures: printed as the scenario ends (so a failure still shows them) and kept
 * under the run directory for the summary the global teardown prints.
 */
export class Figures {
  private readonly started = Date.now();
  readonly values: Record<string, string | number> = {};

  constructor(private readonly scenario: string) {}

  set(name: string, value: string | number): void {
    this.values[name] = typeof value === 'number' && !Number.isInteger(value) ? Number(value.toFixed(2)) : value;
  }

  /** How a delivery scenario ended, named alike in every scenario so the summaries compare. */
  outcome(o: { drainMs: number; processed: number; wrongRows: number; dlq: number; delivered: number; deliveredTwice: number }): void {
    this.set('drain after the last post', `${(o.drainMs / 1000).toFixed(1)} s`);
    this.set('events processed', o.processed);
    this.set('rows differing from the chronological merge', o.wrongRows);
    this.set('messages in the DLQ', o.dlq);
    this.set('emails delivered, delivered twice', `${o.delivered}, ${o.deliveredTwice}`);
  }

  write(): void {
    // Two cores shared with whatever else runs: a loaded machine explains slow figures.
    this.set('machine load average (1 min) at the end', os.loadavg()[0]!);
    const seconds = Math.round((Date.now() - this.started) / 1000);
    const record = { scenario: this.scenario, scale: SCALE, seconds, figures: this.values };
    const slug = this.scenario.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    fs.writeFileSync(path.join(runDir(), 'figures', `${String(Date.now())}-${slug}.json`), JSON.stringify(record, null, 2));
    const lines = Object.entries(this.values).map(([k, v]) => `  ${k.padEnd(54)} ${v}`);
    process.stdout.write(`\n${this.scenario} (${seconds} s, scale ${SCALE})\n${lines.join('\n')}\n`);
  }
}

/** Median and maximum of some durations, as `median / max ms`. */
export function spread(ms: readonly number[]): string {
  if (ms.length === 0) return '-';
  const sorted = [...ms].sort((a, b) => a - b);
  return `${Math.round(sorted[Math.floor(sorted.length / 2)]!)} / ${Math.round(sorted[sorted.length - 1]!)} ms`;
}

/** Output of a one-off command, kept with the others for the secrets check. */
export function keepLog(name: string, text: string): void {
  fs.writeFileSync(path.join(logDir(), `cli-${Date.now()}-${name}.log`), text);
}
