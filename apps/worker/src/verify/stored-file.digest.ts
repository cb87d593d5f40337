import { createHash, type Hash } from 'node:crypto';

/** What a stored file's bytes hash to: their size, sha256, and git blob id. */
export interface FileDigest {
  size: number;
  sha256: string;
  gitSha: string;
}

/**
 * Hashes a stored file's bytes as they stream, both ways the manifest names them: sha256 of
 * the bytes, and the git blob id (`blob <size>\0<bytes>`, sha1 or sha256 by the id's length).
 * The blob header needs the size before the bytes, so the manifest's size is used; a wrong size
 * then also shows as a different size.
 */
export class StoredFileDigest {
  private readonly sha256 = createHash('sha256');
  private readonly blob: Hash;
  private size = 0;

  constructor(declaredSize: number, gitSha: string) {
    this.blob = createHash(gitSha.length === 64 ? 'sha256' : 'sha1').update(`blob ${declaredSize}\0`);
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.sha256.update(chunk);
    this.blob.update(chunk);
  }

  digest(): FileDigest {
    return { size: this.size, sha256: this.sha256.digest('hex'), gitSha: this.blob.digest('hex') };
  }
}

/**
 * How a stored file differs from its manifest entry, or null when it matches. A v4 snapshot
 * records no sha256: the git blob id alone names the exact bytes.
 */
export function fileMismatch(actual: FileDigest, expected: Omit<FileDigest, 'sha256'> & { sha256?: string }): string | null {
  if (actual.size !== expected.size) return `${actual.size} bytes, the manifest says ${expected.size}`;
  if (expected.sha256 !== undefined && actual.sha256 !== expected.sha256)
    return `sha256 ${actual.sha256}, the manifest says ${expected.sha256}`;
  if (actual.gitSha !== expected.gitSha) return `git blob id ${actual.gitSha}, the manifest says ${expected.gitSha}`;
  return null;
}
