import { majorUnitsText } from '../mail/money';
import { groupThousands } from './table';
import { BillingError } from '../errors';

/** A sum too large to be a JSON number without losing units (past 2^53 minor units). */
export class AmountOutOfRangeError extends BillingError {
  override readonly name = 'AmountOutOfRangeError';
  readonly retryable = false;
}

/**
 * PostgreSQL's text for a sum of minor units as a number. Sums of bigint arrive as text; every
 * sum up to 2^53 (90 trillion in a two-decimal currency) is exact as a number, and a larger one
 * is refused rather than rounded.
 */
export function minorUnitsFromText(text: string): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) throw new AmountOutOfRangeError('amount is past the range a JSON number holds exactly');
  return n;
}

/** For people: "150,000 JPY", "1.500 KWD", "1,500.75 USD". */
export function formatMinorUnits(minor: number, currency: string): string {
  return `${groupThousands(majorUnitsText(minor, currency))} ${currency.toUpperCase()}`;
}
