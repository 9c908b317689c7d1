import { minorUnitDigits } from '../mail/money';

/**
 * Money and dates as the page writes them. Amounts arrive as integer minor units (bigint columns,
 * read as text) and are formatted from their decimal text, so no amount passes through a float.
 */

/** "150000" jpy → "150000"; "1500" kwd → "1.500"; "-250" usd → "-2.50". */
export function majorUnitsText(minor: string | number | bigint, currency: string): string {
  const value = BigInt(minor);
  const digits = minorUnitDigits(currency);
  const negative = value < 0n;
  const abs = (negative ? -value : value).toString().padStart(digits + 1, '0');
  const whole = abs.slice(0, abs.length - digits);
  const fraction = digits > 0 ? `.${abs.slice(abs.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** An amount for display in the viewer's locale: ¥1,500 · KWD 1.500 · $25.00; digits follow Stripe's units. */
export function formatMoney(minor: string | number | bigint, currency: string, locale: string): string {
  const digits = minorUnitDigits(currency);
  const format = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl formats a decimal string exactly (Intl.NumberFormat v3, Node 20).
  return format.format(majorUnitsText(minor, currency) as unknown as number);
}

/** A calendar date in the viewer's language, in UTC: the zone days overdue are counted in. */
export function formatDate(date: Date, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}

/** The date part of a moment, for `<time datetime>`. */
export const isoDate = (date: Date): string => date.toISOString().slice(0, 10);
