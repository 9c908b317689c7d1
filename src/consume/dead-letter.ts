import type { DataSource } from 'typeorm';
import { markDeadLettered } from '../db/event-log';
import { describeMessage } from '../recovery/message-summary';

/**
 * Notes on the event a message carries that the queue is moving the message to the DLQ. The body
 * is read leniently (an EventBridge envelope, an event we could not parse but that names its id):
 * whatever failed must not stop this. Returns the event id, or null when the body names none.
 */
export async function recordDeadLetter(ds: DataSource, messageId: string | undefined, body: string | undefined): Promise<string | null> {
  const { eventId } = describeMessage({ MessageId: messageId, Body: body });
  if (eventId === null) return null;
  await markDeadLettered(ds.manager, eventId);
  return eventId;
}
