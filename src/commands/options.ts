import { UsageError } from './usage';

const INVOICE_ID = /^in_[A-Za-z0-9]{1,250}$/;
export const CUSTOMER_ID = /^cus_[A-Za-z0-9]{1,250}$/;

const ACCOUNT_ID = /^acct_[A-Za-z0-9]{1,250}$/;
const ACCOUNT_HELP = 'a connected account id, acct_… (letters and digits after acct_)';

/** `--account acct_…` of the commands that read Stripe's API as a connected account (Stripe-Account). */
export function accountOption(raw: string | undefined, option = '--account'): string | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'platform') throw new UsageError(`${option}: ${ACCOUNT_HELP}; leave it out for the platform's own objects`);
  if (!ACCOUNT_ID.test(raw)) throw new UsageError(`${option}: not ${ACCOUNT_HELP}`);
  return raw;
}

/**
 * `--account` of the listings: a connected account's rows (`acct_…`), or the platform's own
 * (`platform`: rows with no account); undefined, every owner's.
 */
export function accountScopeOption(raw: string | undefined, option = '--account'): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'platform') return null;
  if (!ACCOUNT_ID.test(raw)) throw new UsageError(`${option}: not ${ACCOUNT_HELP}, nor platform (the platform's own)`);
  return raw;
}

export function invoiceIdOption(raw: string | undefined, option = '--invoice'): string | undefined {
  if (raw === undefined) return undefined;
  if (!INVOICE_ID.test(raw)) throw new UsageError(`${option}: not a Stripe invoice id: expected in_…`);
  return raw;
}

export function customerIdOption(raw: string | undefined, option = '--customer'): string | undefined {
  if (raw === undefined) return undefined;
  if (!CUSTOMER_ID.test(raw)) throw new UsageError(`${option}: not a Stripe customer id: expected cus_…`);
  return raw;
}

/**
 * A moment as ISO 8601: a date (midnight UTC) or a date and time with Z or an offset. A time
 * without a zone is refused: read on a laptop and on a server it would mean two moments.
 */
export function isoOption(raw: string | undefined, option: string): Date | undefined {
  if (raw === undefined) return undefined;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(raw);
  const withZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i.test(raw);
  const ms = dateOnly || withZone ? Date.parse(dateOnly ? `${raw}T00:00:00Z` : raw) : NaN;
  if (!Number.isFinite(ms)) {
    throw new UsageError(`${option}: not an ISO 8601 moment: use 2026-11-01 or 2026-11-01T09:30:00Z (with a zone)`);
  }
  return new Date(ms);
}

export function rangeOptions(since: string | undefined, until: string | undefined): { since?: Date; until?: Date } {
  const s = isoOption(since, '--since');
  const u = isoOption(until, '--until');
  if (s && u && s.getTime() > u.getTime()) throw new UsageError('--since is after --until');
  return { ...(s ? { since: s } : {}), ...(u ? { until: u } : {}) };
}

export function limitOption(raw: string | undefined, fallback: number, max = 100_000, option = '--limit'): number {
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new UsageError(`${option}: a whole number from 1 to ${max}`);
  return n;
}

export function choiceOption<T extends string>(raw: string | undefined, option: string, choices: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(choices as readonly string[]).includes(raw)) throw new UsageError(`${option}: one of ${choices.join(', ')}`);
  return raw as T;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 7 * 86_400 };

/**
 * A duration as the commands take it (`90d`, `12h`, `30m`): a whole number then one of `units`
 * (s, m, h, d, w), in seconds; null when `raw` is not one.
 */
export function durationSeconds(raw: string, units: string): number | null {
  const m = /^(\d{1,12})([a-z])$/.exec(raw.trim());
  return m && units.includes(m[2]!) && UNIT_SECONDS[m[2]!] !== undefined ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : null;
}
