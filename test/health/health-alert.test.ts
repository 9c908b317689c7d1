import { HEALTH_ALERT_TYPE, isHealthAlert, readHealthAlert } from '../../src/stripe-objects/health-alert';

/** The v2 event as `GET /v2/core/events/{id}` returns it (Stripe's public preview layout). */
const publicPreview = {
  id: 'evt_test_65RAlert',
  object: 'v2.core.event',
  type: HEALTH_ALERT_TYPE,
  created: '2026-11-30T16:05:44.000Z',
  livemode: false,
  data: {
    alert_id: 'halert_61RFBMa6o6H87usts16RFBM10hSQlYfddqcFoEMR6CPY',
    grouping_key: '_grouping_s8PgTvizbkORV9z5PhaJSvc4dUcAMmfRpEHKm4EeJ1glsQ5XMf',
    impact: {
      event_type: 'invoice.paid',
      related_object: { id: 'in_1Alert', type: 'invoice', url: '/v1/invoices/in_1Alert' },
    },
    resolved_at: '2026-11-30T16:05:44.000Z',
    summary: 'We have failed to create a notification for your Stripe account.',
  },
};

describe('readHealthAlert', () => {
  it('reads the object, the event type, when it was resolved and the summary', () => {
    expect(readHealthAlert(publicPreview)).toEqual({
      eventType: 'invoice.paid',
      related: { type: 'invoice', id: 'in_1Alert' },
      resolvedAt: '2026-11-30T16:05:44.000Z',
      summary: 'We have failed to create a notification for your Stripe account.',
    });
  });

  it('reads the private preview, which named only related_object_id, by the id prefix', () => {
    const impact = { event_type: 'charge.succeeded', related_object_id: 'ch_3Alert' };
    expect(readHealthAlert({ data: { impact } }).related).toEqual({ type: 'charge', id: 'ch_3Alert' });
    expect(readHealthAlert({ data: { impact: { related_object_id: 'pi_3Alert' } } }).related).toEqual({ type: 'payment_intent', id: 'pi_3Alert' });
    expect(readHealthAlert({ data: { impact: { related_object_id: 'inpay_1Alert' } } }).related).toEqual({ type: 'invoice_payment', id: 'inpay_1Alert' });
  });

  it('prefers the type Stripe gives over the prefix', () => {
    const impact = { related_object_id: 'in_1X', related_object: { id: 'in_1X', type: 'invoice' } };
    expect(readHealthAlert({ data: { impact } }).related).toEqual({ type: 'invoice', id: 'in_1X' });
  });

  it('names no object when the alert has none or an id of no known prefix', () => {
    expect(readHealthAlert({ data: { impact: {} } }).related).toBeNull();
    expect(readHealthAlert({ data: { impact: { related_object_id: 'zz_1' } } }).related).toBeNull();
    expect(readHealthAlert(null)).toEqual({ eventType: null, related: null, resolvedAt: null, summary: null });
    expect(readHealthAlert({ data: 'x' }).related).toBeNull();
  });

  it('tells the alert type from others', () => {
    expect(isHealthAlert(HEALTH_ALERT_TYPE)).toBe(true);
    expect(isHealthAlert('v1.invoice.paid')).toBe(false);
    expect(isHealthAlert(null)).toBe(false);
  });
});
