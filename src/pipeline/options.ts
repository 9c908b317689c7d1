import type Stripe from 'stripe';
import type { Config } from '../config';
import { noticeEffects, noticePolicy } from '../effects/notice-effects';
import { objectFetcher } from '../stripe-objects/registry';
import { repairAndRecord } from '../recovery/health-repair';
import type { WarnLogger } from '../recovery/stripe-pages';
import type { ProcessOptions } from './types';

/**
 * What a deployment's configuration turns on in the pipeline: the notice outbox; with a Stripe
 * key, fetching objects and repairing what Stripe's health alerts name.
 */
export function pipelineOptions(config: Pick<Config, 'mail'>, stripe: Stripe | undefined, logger: WarnLogger): Pick<ProcessOptions, 'effects' | 'fetchObject' | 'repairAlert'> {
  const notices = noticeEffects(noticePolicy(config));
  if (!stripe) return { effects: { notices } };
  return {
    effects: { notices },
    fetchObject: objectFetcher(stripe),
    repairAlert: (ds, eventId, account) => repairAndRecord({ stripe, ds, effects: notices, logger }, eventId, account),
  };
}
