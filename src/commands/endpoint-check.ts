import { SNAPSHOT_EVENT_TYPES } from '../stripe-objects/registry';
import { listEndpoints, PROCESSOR_API_VERSION, snapshot } from './endpoint-api';
import { withEndpointApi } from './endpoint-context';
import { checkEndpoints } from './endpoint-findings';
import { endpointUrlFilter } from './endpoint-options';
import { checkText } from './endpoint-output';
import { print } from './usage';

interface CheckFlags {
  url?: string;
  json?: boolean;
}

/** Prints the report; exits 1 when an endpoint needs attention or none is there, for a cron or CI job. */
export async function checkEndpointsCommand(flags: CheckFlags): Promise<void> {
  const url = endpointUrlFilter(flags.url);
  const report = await withEndpointApi('billing endpoint check', 'read', async (api) => {
    const all = (await listEndpoints(api)).map(snapshot);
    return checkEndpoints(all, { eventTypes: SNAPSHOT_EVENT_TYPES, apiVersion: PROCESSOR_API_VERSION }, { ...(url === undefined ? {} : { url }), livemode: api.livemode });
  });
  print(report, flags.json ?? false, () => checkText(report));
  if (!report.ok) process.exitCode = 1;
}
