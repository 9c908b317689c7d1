/**
 * The objects the test Stripe API serves. Tests fill them directly (webhook endpoints can also be
 * created through the API, as the product creates them), and the server lists them newest first,
 * as Stripe does.
 *
 * Stripe Connect: an object is the platform's own (put, add) or a connected account's (putAs,
 * addAs). A request made as an account (`Stripe-Account`) sees that account's objects only, and a
 * request without the header the platform's only, as on Stripe, where another account's object
 * answers 404. Ids stay unique across accounts, as Stripe's are.
 */

export type StripeObject = Record<string, unknown>;

interface Stored {
  object: StripeObject;
  created: number;
  /** Insertion order: Stripe breaks ties in `created` (one-second resolution) by creation order. */
  seq: number;
  /** The connected account the object belongs to; undefined for the platform's own. */
  account?: string;
}

/** Shared by every resource: keyed by id, ordered by (created desc, insertion desc). */
class ObjectStore {
  private readonly byId = new Map<string, Stored>();
  private nextSeq = 0;

  constructor(private readonly kind: string) {}

  /**
   * Stores a JSON copy, so a test mutating its object afterwards changes nothing already
   * "sent", and anything that could not cross the wire (a BigInt, a cycle) fails here, loudly.
   */
  protected store(input: object, replace: boolean, account?: string): void {
    const object = JSON.parse(JSON.stringify(input)) as unknown;
    if (typeof object !== 'object' || object === null || Array.isArray(object)) {
      throw new TypeError(`${this.kind}: expected an object`);
    }
    const o = object as StripeObject;
    if (typeof o.id !== 'string' || o.id === '') throw new TypeError(`${this.kind}: object needs a string id`);
    if (!Number.isSafeInteger(o.created)) throw new TypeError(`${this.kind} ${o.id}: object needs an integer created (Unix seconds)`);
    const existing = this.byId.get(o.id);
    if (existing && !replace) throw new Error(`${this.kind} ${o.id} is already stored (Stripe ids are unique)`);
    if (existing && existing.account !== account) {
      throw new Error(`${this.kind} ${o.id} is ${existing.account ?? "the platform's"}, not ${account ?? "the platform's"} (Stripe ids are unique across accounts)`);
    }
    // An upsert keeps its place among objects created in the same second, as a Stripe update would.
    this.byId.set(o.id, { object: o, created: o.created as number, seq: existing ? existing.seq : this.nextSeq++, ...(account === undefined ? {} : { account }) });
  }

  /** The connected account the object was stored for (putAs, addAs); undefined for the platform's own or an unknown id. */
  accountOf(id: string): string | undefined {
    return this.byId.get(id)?.account;
  }

  /** A copy of the stored object, or undefined. */
  get(id: string): StripeObject | undefined {
    const s = this.byId.get(id);
    return s ? structuredClone(s.object) : undefined;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Copies, newest first, the order every list endpoint uses. */
  all(): StripeObject[] {
    return this.sorted().map((s) => structuredClone(s.object));
  }

  protected remove(id: string): boolean {
    return this.byId.delete(id);
  }

  /** Keeps the object's place (created, order) but serves `stub` for it from now on. */
  protected replaceWithStub(id: string, stub: StripeObject): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    s.object = stub;
    return true;
  }

  clear(): void {
    this.byId.clear();
    this.nextSeq = 0;
  }

  /** @internal for the server: stored entries newest first (not copies; the server only serializes them). */
  sorted(): Stored[] {
    return [...this.byId.values()].sort((a, b) => b.created - a.created || b.seq - a.seq);
  }

  /** @internal for the server: the stored entry behind a pagination cursor. */
  entry(id: string): Stored | undefined {
    return this.byId.get(id);
  }
}

export class EventStore extends ObjectStore {
  constructor() {
    super('event');
  }

  /**
   * Adds events as Stripe would have created them. A second event with an id already stored
   * throws: Stripe never reuses an event id, and a silent overwrite would hide a test bug.
   */
  add(...events: object[]): void {
    for (const e of events) this.store(e, false);
  }

  /** Adds a connected account's events, listed only to requests made as that account. */
  addAs(account: string, ...events: object[]): void {
    for (const e of events) this.store(e, false, account);
  }
}

/**
 * The objects of one API resource (invoices, charges, …): created or replaced by id, as Stripe's
 * state of each changes, and served by retrieve and list.
 */
export class ResourceStore extends ObjectStore {
  /** Creates or replaces the object with this id (the state a later retrieve or list returns). */
  put(...objects: object[]): void {
    for (const o of objects) this.store(o, true);
  }

  /** put, for a connected account: served only to requests made as that account (Stripe-Account). */
  putAs(account: string, ...objects: object[]): void {
    for (const o of objects) this.store(o, true, account);
  }

  /** Forgets an object: retrieving it then answers 404, as for a deleted draft invoice. */
  delete(id: string): boolean {
    return this.remove(id);
  }
}

export class InvoiceStore extends ResourceStore {
  constructor() {
    super('invoice');
  }
}

/**
 * Customers: Stripe keeps a deleted customer's id, and retrieving it answers a stub
 * `{id, object: 'customer', deleted: true}` rather than 404.
 */
export class CustomerStore extends ResourceStore {
  constructor() {
    super('customer');
  }

  /** Deletes the customer as Stripe does: later retrieves answer the deletion stub. */
  override delete(id: string): boolean {
    return this.replaceWithStub(id, { id, object: 'customer', deleted: true });
  }
}

/**
 * Webhook endpoints. Two things Stripe knows of an endpoint are never in the object it sends back:
 * its signing secret (in the answer to the create call only) and whether it is a Connect endpoint
 * (`connect` is a create parameter, not an attribute). The store keeps both beside the object, for
 * tests to assert on.
 */
export class WebhookEndpointStore extends ResourceStore {
  private readonly secrets = new Map<string, string>();
  private readonly connects = new Set<string>();

  constructor() {
    super('webhook_endpoint');
  }

  /** Stores an endpoint with the secret Stripe would have made for it, and its kind (an account's when created as one). */
  putWithSecret(object: StripeObject, secret: string, connect: boolean, account?: string): void {
    if (account === undefined) this.put(object);
    else this.putAs(account, object);
    this.secrets.set(object.id as string, secret);
    if (connect) this.connects.add(object.id as string);
    else this.connects.delete(object.id as string);
  }

  /** The signing secret the create call returned, when the endpoint was created through the API. */
  secretOf(id: string): string | undefined {
    return this.secrets.get(id);
  }

  /** Whether the endpoint was created with `connect: true` (events of connected accounts). */
  isConnect(id: string): boolean {
    return this.connects.has(id);
  }

  override delete(id: string): boolean {
    this.secrets.delete(id);
    this.connects.delete(id);
    return super.delete(id);
  }

  override clear(): void {
    super.clear();
    this.secrets.clear();
    this.connects.clear();
  }
}

export type { Stored };
export { ObjectStore };

/**
 * The v2 events (`v2.core.event`) thin notifications name: dated by an ISO string, retrieved by
 * id only (`GET /v2/core/events/{id}`), so a map rather than a listed store.
 */
export class V2EventStore {
  private readonly byId = new Map<string, StripeObject>();

  /** Stores or replaces the event with this id. */
  put(...events: object[]): void {
    for (const e of events) {
      const o = e as StripeObject;
      if (typeof o.id !== 'string' || o.id === '') throw new TypeError('v2.core.event: needs a string id');
      if (typeof o.created !== 'string' || Number.isNaN(Date.parse(o.created))) throw new TypeError(`v2.core.event ${o.id}: needs an ISO 8601 created`);
      this.byId.set(o.id, structuredClone(o));
    }
  }

  get(id: string): StripeObject | undefined {
    const e = this.byId.get(id);
    return e && structuredClone(e);
  }

  clear(): void {
    this.byId.clear();
  }
}
