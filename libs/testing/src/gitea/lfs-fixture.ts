import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fixtureGit } from '../git/fixture-git.command';
import { authHeaders, type GiteaAuth } from './gitea.client';

/** One Git LFS file of a fixture: its path in the tree and its real bytes. */
export interface LfsFixtureFile {
  readonly path: string;
  readonly bytes: Buffer;
}

export interface LfsObjectId {
  readonly oid: string;
  readonly size: number;
}

export function lfsObjectIdOf(bytes: Buffer): LfsObjectId {
  return { oid: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
}

/** The pointer file git-lfs would commit for `bytes` (the spec's canonical form). */
export function lfsPointerText({ oid, size }: LfsObjectId): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${size}\n`;
}

/**
 * Writes pointers (not the bytes) into a work tree and commits them with the other files, as
 * `git lfs track` + `git add` would: the fixture needs no git-lfs hooks, and a pointer may
 * name an object that is never uploaded.
 */
export async function commitLfsFiles(
  workTree: string,
  files: { lfs?: readonly (LfsFixtureFile | { path: string; pointerOf: LfsObjectId })[]; plain?: readonly LfsFixtureFile[] },
  message: string,
): Promise<void> {
  const write = async (file: string, content: Buffer | string) => {
    await mkdir(path.dirname(path.join(workTree, file)), { recursive: true });
    await writeFile(path.join(workTree, file), content);
  };
  for (const file of files.lfs ?? []) await write(file.path, lfsPointerText('bytes' in file ? lfsObjectIdOf(file.bytes) : file.pointerOf));
  for (const file of files.plain ?? []) await write(file.path, file.bytes);
  await fixtureGit(['add', '--all'], workTree);
  await fixtureGit(['commit', '--quiet', '-m', message], workTree);
}

/**
 * Uploads objects to a forge's LFS store through the batch API (operation upload, basic
 * transfer), as `git lfs push` would: the forge verifies each oid, so what is there is exact.
 */
export async function uploadLfsObjects(cloneUrl: string, auth: GiteaAuth, objects: readonly Buffer[]): Promise<void> {
  const ids = objects.map(lfsObjectIdOf);
  const response = await fetch(`${cloneUrl.replace(/\/+$/, '')}/info/lfs/objects/batch`, {
    method: 'POST',
    headers: { ...authHeaders(auth), accept: 'application/vnd.git-lfs+json', 'content-type': 'application/vnd.git-lfs+json' },
    body: JSON.stringify({ operation: 'upload', transfers: ['basic'], objects: ids }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`LFS upload batch answered ${response.status}: ${text.slice(0, 300)}`);
  const answer = JSON.parse(text) as {
    objects: { oid: string; actions?: { upload?: { href: string; header?: Record<string, string> } } }[];
  };
  for (const object of answer.objects) {
    const upload = object.actions?.upload;
    if (!upload) continue; // the forge has it already
    const bytes = objects[ids.findIndex((id) => id.oid === object.oid)]!;
    const put = await fetch(upload.href, {
      method: 'PUT',
      headers: { ...upload.header, 'content-type': 'application/octet-stream' },
      body: bytes,
      signal: AbortSignal.timeout(60_000),
    });
    if (!put.ok) throw new Error(`LFS upload of ${object.oid} answered ${put.status}: ${(await put.text()).slice(0, 300)}`);
  }
}
