import { MalformedEventError } from '../errors';
import { identifyEvent, type EventIdentity } from '../stripe-objects/identify-event';
import type { AnyObjectKind, EventMeta } from '../stripe-objects/object-kind';
import { kindOfEvent, kindOfThinEvent } from '../stripe-objects/registry';
import { parseMessageBody } from './message-body';
import { fetchedObjectEvent } from '../billing/fetched-event';
import { isHealthAlert } from '../stripe-objects/health-alert';
import type { BatchItem, FetchObject } from './types';

/** A message read once, ready for the transaction: its kind, its snapshot, and what the event log stores. */
export interface PreparedMessage {
  kind: AnyObjectKind;
  snapshot: EventMeta;
  /** The event as stored in the log: the message body itself unless it had to be unwrapped or fetched. */
  payload: string;
  force: boolean;
  /** When Stripe created the event (unix seconds): a fetched object's snapshot is dated at the fetch instead. */
  created: number;
}

/** A message that cannot be applied, with what could be read of its event (for the event log). */
export interface UnusableMessage {
  error: unknown;
  identity: EventIdentity;
  event: unknown;
}

/** A Stripe health alert: no object of its own; applied by applyHealthAlert. */
export interface AlertMessage {
  who: EventIdentity & { id: string; type: string };
  payload: string;
  force: boolean;
}

export type Preparation = { ok: true; message: PreparedMessage } | { ok: true; alert: AlertMessage } | { ok: false; failure: UnusableMessage };

const withArticle = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;

/** The event a fetched object stands for (see fetchedObjectEvent), with what was received. */
async function fetchedEvent(kind: AnyObjectKind, who: EventIdentity, received: Record<string, unknown>, fetchObject: FetchObject | undefined, now: number, because: string) {
  const id = who.objectId!;
  const type = who.thin ? who.type!.slice('v1.'.length) : who.type!;
  if (!fetchObject) throw new MalformedEventError(`${because} but STRIPE_SECRET_KEY is not set, so the ${kind.object} cannot be fetched`);
  const object = (await fetchObject(kind.object, id, who.account)) ?? kind.goneObject(type, id);
  if (object === null) throw new MalformedEventError(`${kind.object} ${id} of ${who.thin ? 'thin ' : ''}event ${who.id} does not exist at Stripe`);
  return fetchedObjectEvent(object, {
    id: who.id,
    type,
    fetchedAt: Math.max(who.created ?? 0, now),
    livemode: who.livemode,
    account: who.account,
    // What was received, so the log says why this event holds a fetched object.
    note: who.thin ? { thin_event: { created: received['created'] ?? null } } : { fetched_because: because },
  });
}

/**
 * Reads a message: its body (JSON, or Stripe's EventBridge envelope), the kind the registry says it
 * carries, and its snapshot. A thin event's object is fetched; so is the object of a snapshot
 * event the schema cannot read, when STRIPE_SECRET_KEY is set. Never throws: a message that can
 * never succeed comes back with its reason.
 */
export async function prepareMessage(item: BatchItem, fetchObject: FetchObject | undefined, now: number): Promise<Preparation> {
  let event: unknown = null;
  let identity = identifyEvent(null);
  try {
    const parsed = parseMessageBody(item.body);
    event = parsed.event;
    identity = identifyEvent(event);
    const force = item.force;
    if (identity.thin && isHealthAlert(identity.type) && identity.id !== null) {
      return { ok: true, alert: { who: { ...identity, id: identity.id, type: identity.type! }, payload: parsed.payload, force } };
    }
    if (identity.thin) {
      const kind = kindOfThinEvent(identity.type);
      if (!kind || identity.object !== kind.object || identity.objectId === null) {
        throw new MalformedEventError(`thin event ${identity.type ?? '(no type)'} does not refer to ${kind ? withArticle(kind.object) : 'an object this processor keeps'}`);
      }
      const expanded = await fetchedEvent(kind, identity, event as Record<string, unknown>, fetchObject, now, 'thin event received');
      return { ok: true, message: { kind, snapshot: kind.read(expanded), payload: JSON.stringify(expanded), force, created: identity.created ?? now } };
    }
    const kind = kindOfEvent(identity.type);
    if (!kind) throw new MalformedEventError(`not an event this processor handles: ${identity.type ?? 'type missing'}`);
    try {
      const snapshot = kind.read(event);
      return { ok: true, message: { kind, snapshot, payload: parsed.payload, force, created: snapshot.eventCreated } };
    } catch (err) {
      // Stripe's own current state of the object is the cure for a snapshot we cannot read.
      if (!(err instanceof MalformedEventError) || !fetchObject || identity.id === null || identity.objectId === null || (identity.object ?? kind.object) !== kind.object) throw err;
      const fetched = await fetchedEvent(kind, identity, event as Record<string, unknown>, fetchObject, now, `its snapshot could not be read (${err.message})`);
      return { ok: true, message: { kind, snapshot: kind.read(fetched), payload: JSON.stringify(fetched), force, created: identity.created ?? now } };
    }
  } catch (error) {
    return { ok: false, failure: { error, identity, event } };
  }
}
