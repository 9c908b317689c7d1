/**
 * Days are counted one way everywhere a person reads them (emails, the finance views, the CLI):
 * in calendar days of UTC, the zone every date in the emails is written in. The SQL function
 * `finance_days_past_due(due, as_of)` implements the same rule; a test holds the two equal.
 */

const DAY = 86_400;

/** The UTC calendar day of a moment, as a day number since 1970-01-01. */
export const utcDay = (unixSeconds: number): number => Math.floor(unixSeconds / DAY);

/**
 * Days past due as of a moment: 0 until the due moment has passed, then the number of UTC
 * calendar days since the due date, and at least 1 (an invoice past its due time on its due date
 * is 1 day overdue). Due on 1 November, it is 1 day overdue on 2 November, 30 on 1 December.
 */
export function daysPastDue(dueDate: number | null, asOf: number): number {
  if (dueDate === null || dueDate >= asOf) return 0;
  return Math.max(1, utcDay(asOf) - utcDay(dueDate));
}

/** UTC calendar days from `now` to the due date: 0 is today, 1 tomorrow, negative once the date has passed. */
export function daysUntilDue(dueDate: number, now: number): number {
  return utcDay(dueDate) - utcDay(now);
}
