import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths that could carry a secret if an object is ever logged whole; values are also never
 * interpolated into messages, so this is the second line of defence, not the first.
 */
const REDACT_PATHS = [
  'secret',
  'secrets',
  '*.secret',
  '*.secrets',
  'webhookSecrets',
  '*.webhookSecrets',
  'password',
  '*.password',
  'databaseUrl',
  '*.databaseUrl',
  'smtpUrl',
  '*.smtpUrl',
  'apiKey',
  'secretKey',
  '*.secretKey',
  '*.apiKey',
  'headers["stripe-signature"]',
  'headers.authorization',
  '*.headers["stripe-signature"]',
  '*.headers.authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'stripe-billing' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/** Replaces the password of a connection URL, for banners and error messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}
