import type Stripe from 'stripe';
import type { Config } from '../config';
import { noticeEffects, noticePolicy } from '../effects/notice-effects';
import { objectFetcher } from '../stripe-objects/registry';
import type { ProcessOptions } from './types';

/** What a deployment's configuration turns on in the pipeline: the notice outbox, and fetching when a Stripe key is set. */
export function pipelineOptions(config: Pick<Config, 'mail'>, stripe: Stripe | undefined): Pick<ProcessOptions, 'effects' | 'fetchObject'> {
  return { effects: { notices: noticeEffects(noticePolicy(config)) }, ...(stripe ? { fetchObject: objectFetcher(stripe) } : {}) };
}
