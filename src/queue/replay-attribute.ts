/** Message attribute set by `billing replay events --force`: merge even if the event is known. */
export const REPLAY_ATTRIBUTE = 'billing-replay';
