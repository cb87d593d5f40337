import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import { BundleApplyError, GitError, RepositoryReader, restoreFromBundles } from '@archiver/git';
import {
  headOf,
  manifestKey,
  ObjectStoreRepository,
  readBundleChain,
  readManifestRefs,
  readSnapshotManifest,
  refsOfManifest,
  type SnapshotBundleLink,
  type SnapshotManifest,
  StorageError,
  StorageErrorCode,
} from '@archiver/storage';
import { SnapshotCheckCode, SnapshotCheckError } from './snapshot-check.error';

/** A completed snapshot as its manifests describe it. */
export interface StoredSnapshot {
  bucket: string;
  manifest: SnapshotManifest;
  /** The manifest that holds the content: the snapshot's own, or for an unchanged visit `contentFrom`'s. */
  content: SnapshotManifest;
  chain: SnapshotBundleLink[];
  refs: { nameBytes: Buffer; sha: string }[];
}

/**
 * Rebuilds a stored snapshot in a scratch directory exactly as a person's restore script would:
 * download its bundle chain checking each bundle's size and sha256 against the manifest, apply
 * the bundles in order (each verified by git first), set every ref from the manifest, and
 * compare the result with the manifest. Shared by the consolidated bundle job and the restore
 * drills; every way the stored snapshot can be wrong is a SnapshotCheckError naming the object.
 */
@Injectable()
export class SnapshotRestorer {
  constructor(private readonly store: ObjectStoreRepository) {}

  async load(bucket: string, prefix: string): Promise<StoredSnapshot> {
    const manifest = await this.missingAs(bucket, manifestKey(prefix), () => readSnapshotManifest(this.store, bucket, prefix));
    const content = manifest.contentFrom
      ? await this.missingAs(bucket, manifestKey(manifest.contentFrom.prefix), () =>
          readSnapshotManifest(this.store, bucket, manifest.contentFrom!.prefix),
        )
      : manifest;
    const [chain, refs] = await Promise.all([
      readBundleChain(this.store, bucket, prefix, manifest),
      readManifestRefs(this.store, bucket, manifest),
    ]);
    return { bucket, manifest, content, chain, refs: refsOfManifest(refs) };
  }

  /** Restores into `<dir>/repo.git` and returns its path; the refs are checked against the manifest. */
  async restore(snapshot: StoredSnapshot, dir: string, signal: AbortSignal): Promise<string> {
    const files: string[] = [];
    for (const [i, link] of snapshot.chain.entries()) {
      files.push(await this.download(snapshot.bucket, link, path.join(dir, `${i + 1}.bundle`), signal));
    }
    const gitDir = path.join(dir, 'repo.git');
    try {
      await restoreFromBundles(gitDir, files, { refs: snapshot.refs, ...headOf(snapshot.manifest) }, { signal, verify: true });
    } catch (error) {
      if (error instanceof BundleApplyError) {
        const link = snapshot.chain[error.bundleIndex]!;
        throw new SnapshotCheckError(SnapshotCheckCode.CORRUPT_BUNDLE, `git refuses bundle ${link.key}: ${error.message}`, {
          cause: error,
        });
      }
      if (GitError.isGitError(error) && error.code !== 'ABORTED') {
        throw new SnapshotCheckError(
          SnapshotCheckCode.REFS_MISMATCH,
          `the manifest's refs cannot be set on the restored bundles: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
    await this.compareRefs(gitDir, snapshot, signal);
    return gitDir;
  }

  private async compareRefs(gitDir: string, snapshot: StoredSnapshot, signal: AbortSignal): Promise<void> {
    const reader = new RepositoryReader(gitDir);
    const head = await reader.head({ signal });
    const difference = refsDifference(head.refs, snapshot.refs);
    if (difference)
      throw new SnapshotCheckError(SnapshotCheckCode.REFS_MISMATCH, `the restored refs differ from the manifest's: ${difference}`);
    if (head.commit !== snapshot.content.commit) {
      throw new SnapshotCheckError(
        SnapshotCheckCode.REFS_MISMATCH,
        `the restored HEAD leads to ${head.commit ?? 'no commit'}, the manifest says ${snapshot.content.commit ?? 'none'}`,
      );
    }
  }

  private async download(bucket: string, link: SnapshotBundleLink, file: string, signal: AbortSignal): Promise<string> {
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    const source = await this.missingAs(bucket, link.key, () => this.store.getObject(bucket, link.key));
    await pipeline(source, tap, createWriteStream(file), { signal });
    const { size } = await stat(file);
    const sha256 = hash.digest('hex');
    if (size !== link.size || sha256 !== link.sha256) {
      throw new SnapshotCheckError(
        SnapshotCheckCode.CORRUPT_BUNDLE,
        `bundle ${link.key} of snapshot ${link.archiveId} is corrupted: ${size} bytes with sha256 ${sha256}, the manifest says ${link.size} bytes with sha256 ${link.sha256}`,
      );
    }
    return file;
  }

  private async missingAs<T>(bucket: string, key: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof StorageError && error.code === StorageErrorCode.NOT_FOUND) {
        throw new SnapshotCheckError(SnapshotCheckCode.MISSING_OBJECT, `${bucket}/${key} is missing`, { cause: error });
      }
      if (error instanceof SyntaxError) {
        throw new SnapshotCheckError(SnapshotCheckCode.INVALID_MANIFEST, `${bucket}/${key} is not valid JSON: ${error.message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }
}

/** The first difference between two ref lists (exact name bytes), or null when they are equal. */
export function refsDifference(
  actual: readonly { nameBytes: Buffer; sha: string }[],
  expected: readonly { nameBytes: Buffer; sha: string }[],
): string | null {
  const byName = (list: readonly { nameBytes: Buffer; sha: string }[]) => new Map(list.map((r) => [r.nameBytes.toString('base64'), r]));
  const got = byName(actual);
  const want = byName(expected);
  const shown = (ref: { nameBytes: Buffer }) => JSON.stringify(ref.nameBytes.toString('utf8'));
  for (const [name, ref] of want) {
    const other = got.get(name);
    if (!other) return `${shown(ref)} is missing`;
    if (other.sha !== ref.sha) return `${shown(ref)} is ${other.sha}, the manifest says ${ref.sha}`;
  }
  for (const [name, ref] of got) if (!want.has(name)) return `${shown(ref)} is not in the manifest`;
  return null;
}
