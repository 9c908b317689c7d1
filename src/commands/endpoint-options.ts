import { UsageError } from './usage';

/**
 * Hosts Stripe cannot deliver to: loopback, private and link-local addresses. Stripe refuses
 * them too; refusing here says what to use instead before anything is sent.
 */
function privateHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local') || h.endsWith('.internal')) return true;
  if (h === '::1' || h === '::' || /^f[cd][0-9a-f]{2}:/.test(h) || h.startsWith('fe80:')) return true;
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(h);
  if (!v4) return false;
  const [a, b] = [Number(v4[1]), Number(v4[2])];
  return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/**
 * The URL a new endpoint posts to. HTTPS always, in test mode too: Stripe accepts plain HTTP
 * there, but the events carry customers' names, emails and invoices, and the processor is served
 * over HTTPS wherever Stripe can reach it. A machine Stripe cannot reach gets `stripe listen`.
 * Credentials in the URL are refused: the signature is what authenticates Stripe, and a URL is
 * printed and shown in the Dashboard.
 */
export function webhookUrlOption(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') throw new UsageError('--url is required: where Stripe posts events, e.g. https://billing.example.com/webhooks/stripe');
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new UsageError('--url: not an absolute URL: use https://your-host/webhooks/stripe');
  }
  if (u.protocol !== 'https:') throw new UsageError(`--url: must start with https:// (Stripe posts invoices and customers' details to it)`);
  if (u.username !== '' || u.password !== '') throw new UsageError('--url: leave credentials out of the URL: the signing secret is what authenticates Stripe');
  if (u.hash !== '') throw new UsageError('--url: a URL with a #fragment: Stripe would post to the URL without it');
  if (privateHost(u.hostname)) {
    throw new UsageError(
      `--url: ${u.hostname} cannot be reached from Stripe; to receive test events on this machine run: stripe listen --forward-to localhost:4242/webhooks/stripe`,
    );
  }
  return u.href;
}

/** `check --url`: any absolute http(s) URL, since it only picks endpoints out of the list. */
export function endpointUrlFilter(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const u = new URL(raw.trim());
    if (u.protocol === 'https:' || u.protocol === 'http:') return u.href;
  } catch {
    // Reported below, as for any URL that is not http(s).
  }
  throw new UsageError('--url: not an absolute http(s) URL, e.g. https://billing.example.com/webhooks/stripe');
}

/**
 * A Stripe API version: a date (YYYY-MM-DD), followed since 2024-09-30 by a dot and the
 * release's name (`2026-10-28.endive`). Whether Stripe knows the version is Stripe's to say.
 */
export function apiVersionOption(raw: string | undefined, example: string): string | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(\.[a-z]+)?$/.exec(raw.trim());
  const date = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  const real = m && date && date.getUTCFullYear() === Number(m[1]) && date.getUTCMonth() === Number(m[2]) - 1 && date.getUTCDate() === Number(m[3]);
  if (!real) throw new UsageError(`--api-version: not a Stripe API version: use a date with its release name, such as ${example}`);
  return raw.trim();
}

/** Stripe keeps up to 5000 characters; an empty one would read as "no description". */
export function descriptionOption(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const d = raw.trim();
  if (d === '' || d.length > 5000) throw new UsageError('--description: 1 to 5000 characters');
  return d;
}
