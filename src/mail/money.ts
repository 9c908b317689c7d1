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

/** A Stripe amount formatted for display, e.g. (1000, 'usd') → "$10.00", (100, 'jpy') → "¥100". */
export function formatAmount(minorUnits: number, currency: string, locale = 'en-US'): string {
  const digits = minorUnitDigits(currency);
  // Pinning both bounds makes the display follow Stripe's units rather than Intl's ISO defaults,
  // so an amount is never silently rounded (ISK 12.34) or padded to digits that were never sent.
  return new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: normalizeCode(currency),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(toMajorUnits(minorUnits, currency));
}
