/**
 * The viewer's language from Accept-Language, for dates and numbers: the first listed (by weight)
 * that this Node's Intl supports, else English. Pure: the header in, a BCP 47 tag out; and dates
 * written in it.
 */
const FALLBACK_LOCALE = 'en';

interface Ranged {
  tag: string;
  q: number;
  order: number;
}

function ranges(header: string): Ranged[] {
  return header
    .split(',')
    .slice(0, 20)
    .map((part, order) => {
      const [range = '', ...params] = part.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam === undefined ? 1 : Number(qParam.slice(2));
      return { tag: range.trim(), q: Number.isFinite(q) ? q : 0, order };
    })
    .filter((r) => r.q > 0 && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(r.tag))
    .sort((a, b) => b.q - a.q || a.order - b.order);
}

export function viewerLocale(acceptLanguage: string | undefined): string {
  if (!acceptLanguage) return FALLBACK_LOCALE;
  for (const { tag } of ranges(acceptLanguage)) {
    try {
      const [supported] = Intl.DateTimeFormat.supportedLocalesOf([tag]);
      if (supported) return supported;
    } catch {
      // A tag Intl cannot parse is skipped like an unsupported one.
    }
  }
  return FALLBACK_LOCALE;
}

/** A calendar date in the viewer's language, in UTC: the zone days overdue are counted in. */
export function formatDate(date: Date, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
}
