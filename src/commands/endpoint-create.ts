import { SNAPSHOT_EVENT_TYPES } from '../stripe-objects/registry';
import { BillingError } from '../errors';
import { createEndpoint, listEndpoints, PROCESSOR_API_VERSION, snapshot } from './endpoint-api';
import { withEndpointApi } from './endpoint-context';
import { CONNECT_KEY, conflictingEndpoint, MANAGED_BY, MANAGED_BY_KEY } from './endpoint-findings';
import { apiVersionOption, descriptionOption, webhookUrlOption } from './endpoint-options';
import { createdText, type CreatedEndpoint } from './endpoint-output';
import { print } from './usage';

interface CreateFlags {
  url?: string;
  connect?: boolean;
  apiVersion?: string;
  description?: string;
  json?: boolean;
}

/** An endpoint already takes the URL: creating another would deliver every event twice, under two secrets. */
export class EndpointExistsError extends BillingError {
  override readonly name = 'EndpointExistsError';
  readonly retryable = false;
  /** Something to change (the URL, or the existing endpoint) before running again. */
  override readonly exitCode = 2;
}

const DESCRIPTION = 'stripe-billing: invoices and the money behind them (created by billing endpoint create)';

export async function createEndpointCommand(flags: CreateFlags): Promise<void> {
  const url = webhookUrlOption(flags.url);
  const requestedVersion = apiVersionOption(flags.apiVersion, PROCESSOR_API_VERSION);
  const description = descriptionOption(flags.description) ?? DESCRIPTION;
  const connect = flags.connect ?? false;

  const created = await withEndpointApi('billing endpoint create', 'write', async (api) => {
    const existing = conflictingEndpoint((await listEndpoints(api)).map(snapshot), url, connect);
    if (existing) {
      throw new EndpointExistsError(
        `webhook endpoint ${existing.id} already posts to ${existing.url}; nothing was created. ` +
          `Check it with: billing endpoint check --url ${existing.url}` +
          ` (to replace it, delete ${existing.id} in the Dashboard first${connect ? '' : '; a Connect endpoint for the same URL takes --connect'})`,
      );
    }
    const apiVersion = requestedVersion ?? PROCESSOR_API_VERSION;
    if (apiVersion !== PROCESSOR_API_VERSION) {
      process.stderr.write(`billing: warning: events will come in API version ${apiVersion}; this processor reads ${PROCESSOR_API_VERSION} best, and billing endpoint check will report the difference\n`);
    }
    const e = await createEndpoint(api, {
      url,
      eventTypes: SNAPSHOT_EVENT_TYPES,
      apiVersion,
      connect,
      description,
      metadata: { [MANAGED_BY_KEY]: MANAGED_BY, [CONNECT_KEY]: String(connect) },
    });
    if (!e.secret) throw new Error(`Stripe created webhook endpoint ${e.id} but sent no signing secret; reveal it in the Dashboard`);
    const out: CreatedEndpoint = {
      id: e.id,
      url: e.url,
      connect,
      apiVersion: e.api_version,
      eventTypes: e.enabled_events,
      description: e.description,
      livemode: e.livemode,
      metadata: e.metadata,
      secret: e.secret,
    };
    return out;
  });
  print(created, flags.json ?? false, () => createdText(created));
}
