import { ConfigError, loadConfig } from '../config';
import { endpointApi, type EndpointApi } from './endpoint-api';

/**
 * Runs an `endpoint` command against Stripe's API: the configuration parsed and the key checked
 * before any call, and no error leaving with the key in it, should any layer ever echo it
 * (Stripe's own messages show it masked).
 */
export async function withEndpointApi<T>(what: string, access: 'read' | 'write', fn: (api: EndpointApi) => Promise<T>, env: NodeJS.ProcessEnv = process.env): Promise<T> {
  const config = loadConfig(env);
  const key = config.stripe.secretKey;
  if (!key) throw new ConfigError(`${what} needs STRIPE_SECRET_KEY: a secret key (sk_…), or a restricted key (rk_…) with ${access} access to Webhook Endpoints`);
  try {
    return await fn(endpointApi(config, what));
  } catch (err) {
    if (err instanceof Error && err.message.includes(key)) err.message = err.message.split(key).join('[redacted]');
    throw err;
  }
}
