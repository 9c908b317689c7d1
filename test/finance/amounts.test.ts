import { majorUnitsText } from '../../src/mail/money';
import { AmountOutOfRangeError, formatMinorUnits, minorUnitsFromText } from '../../src/read-models/amounts';

describe('amounts for people and scripts', () => {
  it.each([
    [0, 'usd', '0.00'],
    [5, 'usd', '0.05'],
    [-250, 'eur', '-2.50'],
    [150075, 'usd', '1500.75'],
    [150000, 'jpy', '150000'],
    [1, 'kwd', '0.001'],
    [1500, 'KWD', '1.500'],
    [Number.MAX_SAFE_INTEGER, 'usd', '90071992547409.91'],
  ])('%i %s is %s in major units, digit for digit', (minor, currency, text) => {
    expect(majorUnitsText(minor, currency)).toBe(text);
  });

  it('labels major units with the currency code', () => {
    expect(formatMinorUnits(150000, 'jpy')).toBe('150,000 JPY');
    expect(formatMinorUnits(1500, 'kwd')).toBe('1.500 KWD');
    expect(formatMinorUnits(123456789, 'usd')).toBe('1,234,567.89 USD');
  });

  it('reads PostgreSQL sums as numbers, refusing what a number cannot hold exactly', () => {
    expect(minorUnitsFromText('123456789012')).toBe(123456789012);
    expect(minorUnitsFromText('-7')).toBe(-7);
    expect(() => minorUnitsFromText('9007199254740993')).toThrow(AmountOutOfRangeError);
    expect(() => minorUnitsFromText('1.5')).toThrow(AmountOutOfRangeError);
  });
});
