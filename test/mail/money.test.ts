import { formatAmount, minorUnitDigits, toMajorUnits } from '../../src/mail/money';

// Intl separates a currency code from the number with a no-break space; compare on plain spaces.
const plain = (s: string) => s.replace(/\u00a0/g, ' ');

describe('minorUnitDigits', () => {
  it.each([
    ['usd', 2],
    ['EUR', 2],
    ['jpy', 0],
    ['krw', 0],
    ['ugx', 0],
    ['mga', 0],
    ['xpf', 0],
    ['kwd', 3],
    ['bhd', 3],
    ['tnd', 3],
    // ISO and Intl disagree with Stripe for these: Stripe sends hundredths.
    ['isk', 2],
    ['lyd', 2],
    ['huf', 2],
    ['xyz', 2],
  ])('%s has %d digits', (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });

  it.each(['', 'us', 'usdd', 'us$', '123', 'ü€$'])('rejects the malformed code %j', (currency) => {
    expect(() => minorUnitDigits(currency)).toThrow(RangeError);
  });
});

describe('toMajorUnits', () => {
  it('divides by the currency’s minor units', () => {
    expect(toMajorUnits(1000, 'usd')).toBe(10);
    expect(toMajorUnits(100, 'jpy')).toBe(100);
    expect(toMajorUnits(1500, 'kwd')).toBe(1.5);
    expect(toMajorUnits(-250, 'usd')).toBe(-2.5);
    expect(toMajorUnits(0, 'jpy')).toBe(0);
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('rejects %p, which is not a whole number of minor units', (n) => {
    expect(() => toMajorUnits(n, 'usd')).toThrow(RangeError);
  });
});

describe('formatAmount', () => {
  it('formats two-decimal currencies', () => {
    expect(formatAmount(1000, 'usd')).toBe('$10.00');
    expect(formatAmount(1, 'usd')).toBe('$0.01');
    expect(formatAmount(123456789, 'usd')).toBe('$1,234,567.89');
  });

  it('does not divide zero-decimal currencies', () => {
    expect(formatAmount(100, 'jpy')).toBe('¥100');
    expect(formatAmount(100, 'JPY')).toBe('¥100');
    expect(formatAmount(5000, 'krw')).toBe('₩5,000');
    expect(formatAmount(100, 'jpy')).not.toContain('.');
  });

  it('shows three decimals for three-decimal currencies', () => {
    const kwd = plain(formatAmount(1500, 'kwd'));
    expect(kwd).toBe('KWD 1.500');
    expect(kwd).toMatch(/\d\.\d{3}$/);
    expect(plain(formatAmount(1, 'bhd'))).toMatch(/0\.001$/);
  });

  it('shows Stripe’s digits where Intl’s defaults differ', () => {
    // Intl would print ISK without decimals and round 12.34 away.
    expect(plain(formatAmount(1234, 'isk'))).toBe('ISK 12.34');
    // Intl would print LYD with three decimals.
    expect(plain(formatAmount(1234, 'lyd'))).toBe('LYD 12.34');
  });

  it('formats for the given locale', () => {
    expect(plain(formatAmount(123456, 'eur', 'de-DE'))).toBe('1.234,56 €');
    expect(plain(formatAmount(100, 'jpy', 'de-DE'))).toBe('100 ¥');
  });

  it('formats negative amounts and zero', () => {
    expect(formatAmount(-1000, 'usd')).toBe('-$10.00');
    expect(formatAmount(-100, 'jpy')).toBe('-¥100');
    expect(formatAmount(0, 'usd')).toBe('$0.00');
    expect(formatAmount(0, 'jpy')).toBe('¥0');
    expect(plain(formatAmount(0, 'kwd'))).toBe('KWD 0.000');
  });

  it('formats an unknown but well-formed code with the code and two decimals', () => {
    expect(plain(formatAmount(1000, 'xyz'))).toBe('XYZ 10.00');
  });

  it('refuses malformed codes and fractional amounts', () => {
    expect(() => formatAmount(1000, 'dollars')).toThrow(RangeError);
    expect(() => formatAmount(10.5, 'usd')).toThrow(RangeError);
  });
});
