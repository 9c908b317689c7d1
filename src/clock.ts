/** Now, in unix seconds: what every `nowSeconds` option defaults to. */
export const wallClock = (): number => Math.floor(Date.now() / 1000);

/** A date in unix seconds, as Stripe's API and the invoice rows count time. */
export const unixSeconds = (d: Date): number => Math.floor(d.getTime() / 1000);
