import { customerContactRepository } from '../db/billing-contacts';
import { reduceCustomer, reduceListedCustomer, unclaimedContact, type CustomerContactState } from './customer-reducer';
import { readCustomerEvent, type CustomerSnapshot } from './customer-schema';
import { retrieveOrNull } from './retrieve';
import type { ObjectKind } from './object-kind';

/** The events that carry a Customer object. */
const EVENT_TYPES = ['customer.created', 'customer.updated', 'customer.deleted'] as const;

/**
 * `customer.<one word>` carries the Customer; `customer.subscription.*`, `customer.discount.*`,
 * `customer.source.*`, `customer.tax_id.*` and the like carry other objects under the same prefix.
 */
const CUSTOMER_EVENT = /^customer\.[a-z0-9_]+$/;

/**
 * Customers, kept in billing_contacts beside the addresses operators set: the customer's email
 * (as primary_email, the last fallback of invoice emails), name and deletion. No effects: the
 * mailer reads the contact when it sends.
 */
export const customerKind: ObjectKind<CustomerSnapshot, CustomerContactState> = {
  object: 'customer',
  eventTypes: EVENT_TYPES,
  thinEventTypes: EVENT_TYPES.map((t) => `v1.${t}`),
  // Stripe's filter cannot say "one word"; backfill narrows what it lists with `carries`.
  eventPattern: 'customer.*',
  carries: (type) => CUSTOMER_EVENT.test(type),
  carriesThin: (type) => type.startsWith('v1.') && CUSTOMER_EVENT.test(type.slice('v1.'.length)),
  read: (event) => readCustomerEvent(event),
  key: (s) => s.stripeCustomerId,
  invoiceOf: () => null,
  invoiceOfObjectId: () => null,
  reduce: reduceCustomer,
  reduceListed: reduceListedCustomer,
  repository: customerContactRepository,
  unclaimed: unclaimedContact,
  effects: async () => ({ queued: 0, skipped: 0 }),
  goneObject: (type, id) => (type === 'customer.deleted' ? { id, object: 'customer', deleted: true } : null),
  // A deleted customer comes back as {id, object: 'customer', deleted: true}: the reader takes it as the deletion.
  retrieve: (stripe, id, account) => retrieveOrNull((options) => stripe.customers.retrieve(id, {}, options), account),
};
