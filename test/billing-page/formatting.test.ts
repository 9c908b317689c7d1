import { formatAmount as formatMoney, majorUnitsText } from '../../src/mail/money';
import { pageUrl } from '../../src/billing-page/link';
import { parseTtl } from '../../src/commands/portal-url';
import { formatDate, viewerLocale } from '../../src/billing-page/locale';

// Intl puts a no-break space between a code and the number; the page shows it as a space.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('money', () => {
  it.each([
    ['150000', 'jpy', '150000'],
    ['1500', 'kwd', '1.500'],
    ['5', 'usd', '0.05'],
    ['-250', 'usd', '-2.50'],
    ['0', 'bhd', '0.000'],
    ['123456789012345678', 'usd', '1234567890123456.78'],
  ])('%s %s is %s major units, exactly', (cents, ccy, major) => {
    expect(majorUnitsText(cents, ccy)).toBe(major);
  });

  it('formats in the currency\'s own digits: ¥1,500, KWD 1.500, $25.00', () => {
    expect(formatMoney('1500', 'jpy', 'en')).toBe('¥1,500');
    expect(plain(formatMoney('1500', 'kwd', 'en'))).toBe('KWD 1.500');
    expect(formatMoney('2500', 'usd', 'en')).toBe('$25.00');
    expect(plain(formatMoney('2500', 'eur', 'de'))).toBe('25,00 €');
  });

  it('keeps a huge amount exact (no float on the way)', () => {
    expect(formatMoney('123456789012345678', 'usd', 'en')).toBe('$1,234,567,890,123,456.78');
  });
});

describe('dates and language', () => {
  const d = new Date('2026-11-01T23:30:00Z');
  it('writes a date in the viewer\'s language, as the UTC calendar day', () => {
    expect(formatDate(d, 'en')).toBe('Nov 1, 2026');
    expect(formatDate(d, 'de')).toBe('01.11.2026');
    expect(formatDate(d, 'fr')).toBe('1 nov. 2026');
  });

  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['de-DE,de;q=0.9,en;q=0.8', 'de-DE'],
    ['en;q=0.5, fr;q=0.9', 'fr'],
    ['*', 'en'],
    ['xx-invalid-tag-that-is-long, ja', 'ja'],
    ['<script>', 'en'],
  ])('Accept-Language %p → %p', (header, locale) => {
    expect(viewerLocale(header)).toBe(locale);
  });
});

describe('portal-url helpers', () => {
  it.each([
    ['12h', 43200],
    ['30m', 1800],
    ['7d', 604800],
    ['90s', 90],
    ['31d', 2678400],
    ['32d', null],
    ['30s', null],
    ['12', null],
    ['1w', null],
  ])('--ttl %s → %p', (raw, seconds) => {
    expect(parseTtl(raw)).toBe(seconds);
  });

  it('builds the page URL under a base with or without a trailing slash', () => {
    expect(pageUrl('https://billing.example.com/', 'a.b')).toBe('https://billing.example.com/billing/a.b');
    expect(pageUrl('https://example.com/prefix', 'a.b')).toBe('https://example.com/prefix/billing/a.b');
  });
});
