/**
 * The billing page as a customer's browser receives it, read without a browser: the JSON as sent,
 * and from the HTML what a customer reads and can follow (each invoice's pill, its links with
 * their visible labels, accessible names and targets, the overdue list).
 */
import { signPortalToken } from '../../src/billing-page/token';
import { PORTAL_SECRET, type PageServer } from './server';

export interface PageLink {
  action: string;
  href: string;
  /** What a sighted customer reads on it. */
  label: string;
  /** What a screen reader announces: the label and the invoice it is for. */
  name: string;
  newTab: boolean;
}

export interface PageRow {
  status: string;
  pill: string;
  tone: string;
  links: PageLink[];
}

export interface ReadPage {
  /** The invoice list by invoice id, in the order shown. */
  rows: Map<string, PageRow>;
  /** The overdue section's invoices by id, in the order shown; null when the section is absent. */
  overdue: Map<string, PageLink[]> | null;
  /** Every piece of text in the body, whitespace collapsed. */
  text: string;
}

export interface PageAnswer {
  json: string;
  html: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decode(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') return String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const textOf = (html: string) => squash(decode(html.replace(/<[^>]*>/g, '')));

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:-]+)="([^"]*)"/g)) out[m[1]!] = decode(m[2]!);
  return out;
}

/** Every `<name …>…</name>` in `html` (the page never nests one of these in another of its kind). */
function elements(html: string, name: string): Array<{ attrs: Record<string, string>; inner: string }> {
  return [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>([\\s\\S]*?)</${name}>`, 'g'))].map((m) => ({ attrs: attributes(m[1]!), inner: m[2]! }));
}

function links(html: string): PageLink[] {
  return elements(html, 'a')
    .filter((a) => a.attrs['data-action'] !== undefined)
    .map((a) => ({
      action: a.attrs['data-action']!,
      href: a.attrs['href'] ?? '',
      label: textOf(a.inner.replace(/<span class="sr">[\s\S]*?<\/span>/g, '')),
      name: textOf(a.inner.replace(/<span aria-hidden="true">[\s\S]*?<\/span>/g, '')),
      newTab: a.attrs['target'] === '_blank',
    }));
}

export function readPage(html: string): ReadPage {
  const body = /<body>([\s\S]*)<\/body>/.exec(html)?.[1] ?? '';
  const rows = new Map<string, PageRow>();
  for (const tr of elements(body, 'tr')) {
    const id = tr.attrs['data-invoice'];
    if (id === undefined) continue;
    const pill = elements(tr.inner, 'span').find((s) => s.attrs['data-testid'] === 'pill');
    rows.set(id, {
      status: tr.attrs['data-status'] ?? '',
      pill: pill ? textOf(pill.inner) : '',
      tone: pill ? (pill.attrs['class'] ?? '').replace(/^pill\s*/, '') : '',
      links: links(tr.inner),
    });
  }
  const section = elements(body, 'section').find((s) => s.attrs['data-testid'] === 'overdue');
  const overdue = section ? new Map(elements(section.inner, 'li').map((li) => [li.attrs['data-invoice'] ?? '', links(li.inner)])) : null;
  return { rows, overdue, text: textOf(body) };
}

/** An admin's link to a customer's page, valid for an hour. */
export function pageToken(customer: string, role: 'admin' | 'member' = 'admin'): string {
  return signPortalToken({ customerId: customer, accountId: null, role, expiresAt: Math.floor(Date.now() / 1000) + 3600 }, PORTAL_SECRET);
}

/** The page's JSON and HTML, each as the bytes sent (a 200 is required: anything else is thrown). */
export async function fetchPage(server: PageServer, customer: string): Promise<PageAnswer> {
  const token = pageToken(customer);
  const get = async (path: string) => {
    const res = await fetch(`${server.origin}/billing/${path}`, { headers: { 'accept-language': 'en-US' } });
    if (res.status !== 200) throw new Error(`GET /billing/…${path.endsWith('.json') ? '.json' : ''}: ${res.status}`);
    return res.text();
  };
  const [json, html] = await Promise.all([get(`${token}.json`), get(token)]);
  return { json, html };
}
