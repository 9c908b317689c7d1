import { InvoicesAndEvents1763856000000 } from './1763856000000-InvoicesAndEvents';

/** In the order they must run; TypeORM records each by name in the `migrations` table. */
export const MIGRATIONS = [InvoicesAndEvents1763856000000];
