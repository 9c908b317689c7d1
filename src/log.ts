import pino, { type DestinationStream, type Logger } from 'pino';
import { censorChildBindings, redactionOptions } from './log-redaction';

/**
 * Every line is censored of values that could carry a secret (log-redaction.ts: secret, password,
 * databaseUrl, smtpUrl, apiKey, secretKey, webhookSecrets and the credential headers, at the top
 * of a logged object or one level down). Values are also never interpolated into messages, so
 * this is the second line of defence, not the first. Lines are written asynchronously.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return censorChildBindings(
    pino(
      {
        level,
        base: { service: 'stripe-billing' },
        ...redactionOptions(),
        timestamp: pino.stdTimeFunctions.isoTime,
      },
      destination ?? pino.destination({ sync: false }),
    ),
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
