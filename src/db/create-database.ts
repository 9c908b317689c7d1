import type { Client } from 'pg';

/**
 * Creates the database `name` unless the server has it already. Server administration, not a
 * table's SQL: `client` is connected as a role allowed to create databases, to another database.
 */
export async function createDatabaseIfMissing(client: Pick<Client, 'query' | 'escapeIdentifier'>, name: string): Promise<void> {
  const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  // An identifier cannot be a parameter; escapeIdentifier quotes it.
  if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
}
