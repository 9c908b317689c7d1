import { parseEmailAddress } from '../../src/billing/email-address';
import { HeaderInjectionError, assertHeaderValue, parseMailFrom } from '../../src/mail/address';

describe('parseEmailAddress', () => {
  it('accepts a bare address, trimmed, with only the domain lowercased', () => {
    expect(parseEmailAddress('a@b.com')).toBe('a@b.com');
    expect(parseEmailAddress('  Jane.Doe+Billing@Example.COM \t')).toBe('Jane.Doe+Billing@example.com');
    expect(parseEmailAddress("o'neil@sub.example.co.uk")).toBe("o'neil@sub.example.co.uk");
    expect(parseEmailAddress('a@xn--bcher-kva.de')).toBe('a@xn--bcher-kva.de');
  });

  it.each([null, undefined, '', '   '])('returns null for %p', (raw) => {
    expect(parseEmailAddress(raw)).toBeNull();
  });

  it.each([
    ['header injection', 'a@b.com\r\nBcc: evil@x.com'],
    ['a bare LF', 'a@b.com\nBcc: evil@x.com'],
    ['a bare CR', 'a@b.com\rBcc: evil@x.com'],
    ['a trailing CRLF', 'a@b.com\r\n'],
    ['a NUL', 'a@b.com\0'],
    ['a list', 'a@b.com, c@d.com'],
    ['a list with semicolons', 'a@b.com;c@d.com'],
    ['angle brackets', '<a@b.com>'],
    ['a display name', 'Jane <a@b.com>'],
    ['a quoted local part', '"a b"@x.com'],
    ['no domain', 'a@'],
    ['no local part', '@b.com'],
    ['no at sign', 'ab.com'],
    ['two at signs', 'a@b@c.com'],
    ['a single-label domain', 'a@localhost'],
    ['an IP literal', 'a@[127.0.0.1]'],
    ['inner whitespace', 'a b@c.com'],
    ['a unicode local part', 'jürgen@example.com'],
    ['a unicode domain', 'a@bücher.de'],
    ['a fullwidth at sign', 'a＠b.com'],
    ['a right-to-left override', 'a\u202e@b.com'],
  ])('returns null for %s', (_label, raw) => {
    expect(parseEmailAddress(raw)).toBeNull();
  });

  it('enforces the length limits', () => {
    const local64 = 'a'.repeat(64);
    expect(parseEmailAddress(`${local64}@example.com`)).toBe(`${local64}@example.com`);
    expect(parseEmailAddress(`${local64}a@example.com`)).toBeNull();

    const domain = `${'d'.repeat(63)}.${'d'.repeat(63)}.${'d'.repeat(63)}.com`; // 195 characters
    const at254 = `${'a'.repeat(254 - 1 - domain.length)}@${domain}`;
    expect(at254).toHaveLength(254);
    expect(parseEmailAddress(at254)).toBe(at254);
    expect(parseEmailAddress(`a${at254}`)).toBeNull();
  });

  it('returns null quickly for very long input', () => {
    const started = Date.now();
    expect(parseEmailAddress(`${'a'.repeat(1_000_000)}@example.com`)).toBeNull();
    expect(parseEmailAddress(`${'a.'.repeat(100_000)}`)).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('assertHeaderValue', () => {
  it('returns a value without line breaks unchanged', () => {
    expect(assertHeaderValue('Subject', 'Invoice INV-1: $10.00 — ünïcode ✓')).toBe('Invoice INV-1: $10.00 — ünïcode ✓');
    expect(assertHeaderValue('Subject', '')).toBe('');
  });

  it.each(['a@b.com\r\nBcc: evil@x.com', 'a\nb', 'a\rb', 'a\0b', '\r\n'])(
    'throws HeaderInjectionError for %j, naming the header but not the value',
    (value) => {
      let thrown: unknown;
      try {
        assertHeaderValue('Reply-To', value);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(HeaderInjectionError);
      expect(thrown).toBeInstanceOf(Error);
      const { message, name } = thrown as Error;
      expect(name).toBe('HeaderInjectionError');
      expect(message).toContain('Reply-To');
      expect(message).not.toContain('evil');
      expect(message).not.toMatch(/[\r\n\0]/);
    },
  );
});

describe('parseMailFrom', () => {
  it('parses a bare address', () => {
    expect(parseMailFrom('billing@example.com')).toEqual({ name: null, address: 'billing@example.com' });
    expect(parseMailFrom('  billing@EXAMPLE.com  ')).toEqual({ name: null, address: 'billing@example.com' });
  });

  it('parses a display name and an address', () => {
    expect(parseMailFrom('Billing <billing@example.com>')).toEqual({ name: 'Billing', address: 'billing@example.com' });
    expect(parseMailFrom('  Acme Billing   <billing@Example.com>  ')).toEqual({
      name: 'Acme Billing',
      address: 'billing@example.com',
    });
    expect(parseMailFrom('Billing<billing@example.com>')).toEqual({ name: 'Billing', address: 'billing@example.com' });
  });

  it('unquotes a quoted display name', () => {
    expect(parseMailFrom('"Acme, Inc." <billing@example.com>')).toEqual({ name: 'Acme, Inc.', address: 'billing@example.com' });
    expect(parseMailFrom('"The \\"Best\\" <Co>" <billing@example.com>')).toEqual({
      name: 'The "Best" <Co>',
      address: 'billing@example.com',
    });
  });

  it('keeps a unicode display name', () => {
    expect(parseMailFrom('Zürich Fakturierung 請求 <billing@example.ch>')).toEqual({
      name: 'Zürich Fakturierung 請求',
      address: 'billing@example.ch',
    });
  });

  it('treats an empty display name as none', () => {
    expect(parseMailFrom('<billing@example.com>')).toEqual({ name: null, address: 'billing@example.com' });
    expect(parseMailFrom('"" <billing@example.com>')).toEqual({ name: null, address: 'billing@example.com' });
  });

  it.each([
    ['an injected header after the address', 'billing@example.com\r\nBcc: evil@x.com'],
    ['an injected header in the name', 'Billing\r\nBcc: evil@x.com <billing@example.com>'],
    ['a NUL', 'Billing\0 <billing@example.com>'],
  ])('throws HeaderInjectionError for %s', (_label, raw) => {
    expect(() => parseMailFrom(raw)).toThrow(HeaderInjectionError);
  });

  it.each([
    ['empty', ''],
    ['a name only', 'Accounts'],
    ['a list', 'a@b.com, c@d.com'],
    ['a list of named addresses', 'A <a@b.com>, C <c@d.com>'],
    ['two angle addresses', 'A <a@b.com> <c@d.com>'],
    ['an unclosed bracket', 'Accounts <accounts@corp.example'],
    ['stray brackets in the name', 'Acc<ounts <accounts@corp.example>'],
    ['an unbalanced quote in the name', '"Accounts <accounts@corp.example>'],
    ['text after the address', 'Accounts <accounts@corp.example> extra'],
    ['an invalid address', 'Accounts <not an address>'],
    ['a unicode address', 'Accounts <jürgen@example.com>'],
    ['a very long value', `${'N'.repeat(5000)} <accounts@corp.example>`],
  ])('throws a clear Error for %s, without echoing the value', (_label, raw) => {
    let thrown: unknown;
    try {
      parseMailFrom(raw);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(Error);
    const { message } = thrown as Error;
    expect(message).toMatch(/billing@example\.com or Billing <billing@example\.com>/);
    if (raw.length > 0) expect(message).not.toContain(raw);
  });

  it('rejects a very long address inside brackets', () => {
    expect(() => parseMailFrom(`Billing <${'a'.repeat(300)}@example.com>`)).toThrow(/single valid email address/);
  });
});
