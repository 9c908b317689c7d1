import { NOTICE_KINDS, type NoticeKind, type NoticeRecord, type NoticeRequest, type NoticeStatus } from '../../src/billing/notice-kinds';
import type { NoticePolicy } from '../../src/billing/notice-plan';

/** NOTICE_MAX_EVENT_AGE_HOURS' default, 72 hours. */
export const MAX_AGE = 72 * 3600;

/** Every kind on and the default age limit, as a fresh install runs. */
export const ALL_NOTICES: NoticePolicy = { enabled: new Set(NOTICE_KINDS), maxAgeSeconds: MAX_AGE };

export const policyOf = (kinds: Iterable<NoticeKind>, maxAgeSeconds = MAX_AGE): NoticePolicy => ({ enabled: new Set(kinds), maxAgeSeconds });

/** An outbox row as the planner reads it: sent when it was queued unless said otherwise. */
export const record = (n: NoticeRequest, at: number, status: NoticeStatus = 'sent'): NoticeRecord => ({
  ...n,
  status,
  queuedAt: at,
  sentAt: status === 'sent' ? at : null,
});
