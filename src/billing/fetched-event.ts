/** What an object fetched from Stripe's API is wrapped as, so a kind's `read` takes it as it takes an event. */
export interface FetchedAs {
  /** The event's id: the event that made us fetch, or a name for an API read (see reconcileEventId). */
  id: string | null;
  type: string;
  /** Unix seconds: when the object was fetched. */
  fetchedAt: number;
  livemode: boolean;
  /** The connected account the object was fetched as. */
  account: string | null;
  /** Why the event holds a fetched object, for the event log (`thin_event`, `fetched_because`). */
  note?: Record<string, unknown>;
}

/**
 * The event a fetched object stands for. The object is Stripe's state when it was fetched, so the
 * event is dated then: the merge orders it against webhook snapshots by when each state was true,
 * not by when some event was created. Thin events, unreadable snapshots, import and reconcile all
 * wrap what they fetch this way.
 */
export function fetchedObjectEvent(object: Record<string, unknown>, as: FetchedAs): Record<string, unknown> {
  return {
    id: as.id,
    object: 'event',
    type: as.type,
    created: as.fetchedAt,
    livemode: as.livemode,
    api_version: null,
    ...(as.account ? { account: as.account } : {}),
    data: { object },
    ...as.note,
  };
}
