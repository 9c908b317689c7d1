// Stripe's own lists, which differ from ISO 4217 and from Intl's defaults (ISO gives MGA two
// digits and LYD three, Intl gives ISK none; Stripe sends MGA unscaled and LYD and ISK in
// hundredths). Amounts arrive in Stripe's units, so its lists decide.
// https://docs.stripe.com/currencies#zero-decimal
const ZERO_DECIMAL = new Set([
  'BIF', 'CLP', 'DJF', 'GNF', 'JPY', 'KMF', 'KRW', 'MGA', 'PYG', 'RWF', 'UGX', 'VND', 'VUV', 'XAF', 'XOF', 'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

function normalizeCode(currency: string): string {
  // Intl accepts any well-formed code, so this is the only guard against garbage in the email.
  if (!/^[A-Za-z]{3}$/.test(currency)) throw new RangeError('currency must be a three-letter ISO 4217 code');
  return currency.toUpperCase();
}

/** How many decimal digits one major unit has in Stripe's amounts: 0, 2 or 3. */
export function minorUnitDigits(currency: string): number {
  const code = normalizeCode(currency);
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** A Stripe amount (integer minor units) as a number of major units, e.g. 1000 usd → 10. */
export function toMajorUnits(minor: number, currency: string): number {
  // A fraction here means a caller mixed up units; rounding it away would hide that.
  if (!Number.isSafeInteger(minor)) throw new RangeError('amount must be a whole number of minor units');
  return minor / 10 ** minorUnitDigits(currency);
}

/**
 * Major units as exact decimal text, from the integer's digits: (150075, 'usd') → "1500.75",
 * (1500, 'kwd') → "1.500". Minor units come as a number, or as the text or bigint a bigint column
 * gives, so no amount passes through a float; a fraction is refused (a caller mixed up units).
 */
export function majorUnitsText(minor: number | string | bigint, currency: string): string {
  const value = BigInt(minor);
  const digits = minorUnitDigits(currency);
  const sign = value < 0n ? '-' : '';
  const whole = (value < 0n ? -value : value).toString().padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${whole}` : `${sign}${whole.slice(0, -digits)}.${whole.slice(-digits)}`;
}

/** A Stripe amount formatted for display, e.g. (1000, 'usd') → "$10.00", (100, 'jpy') → "¥100". */
export function formatAmount(minorUnits: number | string | bigint, currency: string, locale = 'en-US'): string {
  const digits = minorUnitDigits(currency);
  // Pinning both bounds makes the display follow Stripe's units rather than Intl's ISO defaults,
  // so an amount is never silently rounded (ISK 12.34) or padded to digits that were never sent.
  // Intl formats the decimal text exactly (Intl.NumberFormat v3), whatever the amount's size.
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: normalizeCode(currency),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(majorUnitsText(minorUnits, currency) as unknown as number);
}
