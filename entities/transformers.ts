import type { ValueTransformer } from 'typeorm';

/** pg returns bigint as a string; invoice amounts stay far below 2^53, so a number is exact. */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};

/** The pure core speaks Stripe's unix seconds; the columns are timestamptz for finance. */
export const epochSeconds: ValueTransformer = {
  to: (value: number | null | undefined) => (value === null || value === undefined ? value : new Date(value * 1000)),
  from: (value: Date | null) => (value === null ? null : Math.floor(value.getTime() / 1000)),
};
