/**
 * The objects the test Stripe API serves. Tests fill them directly (there is no POST API), and
 * the server lists them newest first, as Stripe does.
 */

export type StripeObject = Record<string, unknown>;

interface Stored {
  object: StripeObject;
  created: number;
  /** Insertion order: Stripe breaks ties in `created` (one-second resolution) by creation order. */
  seq: number;
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
  protected store(input: object, replace: boolean): void {
    const object = JSON.parse(JSON.stringify(input)) as unknown;
    if (typeof object !== 'object' || object === null || Array.isArray(object)) {
      throw new TypeError(`${this.kind}: expected an object`);
    }
    const o = object as StripeObject;
    if (typeof o.id !== 'string' || o.id === '') throw new TypeError(`${this.kind}: object needs a string id`);
    if (!Number.isSafeInteger(o.created)) throw new TypeError(`${this.kind} ${o.id}: object needs an integer created (Unix seconds)`);
    const existing = this.byId.get(o.id);
    if (existing && !replace) throw new Error(`${this.kind} ${o.id} is already stored (Stripe ids are unique)`);
    // An upsert keeps its place among objects created in the same second, as a Stripe update would.
    this.byId.set(o.id, { object: o, created: o.created as number, seq: existing ? existing.seq : this.nextSeq++ });
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

export type { Stored };
export { ObjectStore };
