import { eventState, recentEvents } from '../read-models/event-log';
import { invoiceIdOption, limitOption } from './options';
import { print } from './usage';
import { withServices } from './with-database';

export async function eventsCommand(o: { invoice?: string; failed?: boolean; limit?: string; json?: boolean }): Promise<void> {
  const f = { invoiceId: invoiceIdOption(o.invoice), failed: o.failed === true, limit: limitOption(o.limit, 50, 10_000) };
  const rows = await withServices({}, ({ ds }) => recentEvents(ds, f));
  print(rows, o.json ?? false, () =>
    rows.length === 0
      ? 'no events'
      : rows
          .map((e) => `${e.created}  ${e.id}  ${e.type}  ${e.invoiceId ?? '-'}  ${eventState(e)}${e.lastError ? `  ${e.lastError}` : ''}`)
          .join('\n'),
  );
}
