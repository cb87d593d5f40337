/**
 * A POSIX shell script that rebuilds a snapshot as a bare repository with curl and git only:
 * it downloads the snapshot's bundles (one curl), feeds each in order to `git bundle unbundle` (which
 * checks its prerequisites are already there), then sets every ref from the manifest — an
 * increment leaves out refs that did not move, so the bundles alone do not say where they point.
 *
 * Git LFS objects the snapshot stored go into the bare repository's own `lfs/objects/`, where
 * git-lfs reads them when the restored repository is cloned (it serves a local or file://
 * remote from that directory).
 *
 * Ref names are bytes, not text: each one is written as a printf format in which every byte
 * outside plain printable ASCII is an octal escape, so the script is ASCII and the names exact.
 */
export interface RestoreScriptInput {
  archiveId: string;
  url: string;
  finishedAt: string;
  /** Where `sh restore.sh` puts the repository when no directory is given. */
  defaultDir: string;
  /** Presigned GETs, in the order to apply them. */
  bundleUrls: readonly string[];
  refs: readonly { nameBytes: Buffer; sha: string }[];
  /** The branch HEAD names; null when HEAD is detached (then `detachedHead` is its commit). */
  headBranch: Buffer | null;
  detachedHead: string | null;
  /**
   * Presigned GETs of the snapshot's stored Git LFS objects: put where git-lfs looks for them
   * (`<dir>/lfs/objects/<oid[0:2]>/<oid[2:4]>/<oid>`), so a clone of the restored repository
   * with git-lfs installed checks out the real content. Optional: none for older callers.
   */
  lfsObjects?: readonly { oid: string; url: string }[];
}

const LFS_OID = /^[0-9a-f]{64}$/;

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function buildRestoreScript(input: RestoreScriptInput): string {
  for (const { sha } of input.refs) if (!OBJECT_ID.test(sha)) throw new Error(`not an object id: ${JSON.stringify(sha)}`);
  if (input.detachedHead !== null && !OBJECT_ID.test(input.detachedHead)) throw new Error('HEAD is not an object id');
  const lines = [
    '#!/bin/sh',
    `# Restores snapshot ${comment(input.archiveId)} of ${comment(input.url)} (${comment(input.finishedAt)})`,
    '# into a bare git repository. Needs curl and git. Usage: sh restore.sh [directory]',
    'set -eu',
    `dir="\${1:-${shellWord(input.defaultDir)}}"`,
    'git init --quiet --bare "$dir"',
    'tmp="$(mktemp -d)"',
    'trap \'rm -rf "$tmp"\' EXIT',
  ];
  // One curl for the whole chain: one process and one kept-alive connection, not one per bundle.
  if (input.bundleUrls.length > 0) {
    lines.push('curl -fsS --retry 3 \\');
    input.bundleUrls.forEach((url, i) => lines.push(`  -o "$tmp/${i + 1}.bundle" ${singleQuoted(url)} \\`));
    lines.push('  ;');
  }
  input.bundleUrls.forEach((_, i) => {
    lines.push(`git -C "$dir" bundle unbundle "$tmp/${i + 1}.bundle" >/dev/null`);
    lines.push(`rm -f "$tmp/${i + 1}.bundle"`);
  });
  if (input.refs.length > 0) {
    lines.push('{');
    for (const ref of input.refs)
      lines.push(`  printf '${printfFormat(Buffer.from(`create `))}${printfFormat(ref.nameBytes)} ${ref.sha}\\n'`);
    lines.push('} | git -C "$dir" update-ref --stdin');
  }
  const lfs = input.lfsObjects ?? [];
  for (const { oid } of lfs) if (!LFS_OID.test(oid)) throw new Error(`not an LFS oid: ${JSON.stringify(oid)}`);
  if (lfs.length > 0) {
    lines.push(`mkdir -p ${[...new Set(lfs.map(({ oid }) => `"$dir/lfs/objects/${oid.slice(0, 2)}/${oid.slice(2, 4)}"`))].join(' ')}`);
    lines.push('curl -fsS --retry 3 \\');
    for (const { oid, url } of lfs)
      lines.push(`  -o "$dir/lfs/objects/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}" ${singleQuoted(url)} \\`);
    lines.push('  ;');
  }
  if (input.headBranch) lines.push(`git -C "$dir" symbolic-ref HEAD "$(printf '${printfFormat(input.headBranch)}')"`);
  else if (input.detachedHead) lines.push(`git -C "$dir" update-ref --no-deref HEAD ${input.detachedHead}`);
  lines.push(`echo "restored ${input.refs.length} refs${lfs.length > 0 ? ` and ${lfs.length} Git LFS objects` : ''} into $dir"`);
  return `${lines.join('\n')}\n`;
}

/** Bytes as a printf format: printable ASCII as is, except `\`, `%` and `'`; everything else octal. */
function printfFormat(bytes: Buffer): string {
  let out = '';
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (char === '%') out += '%%';
    else if (byte >= 0x20 && byte < 0x7f && char !== '\\' && char !== "'") out += char;
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return out;
}

function singleQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A directory name: only characters that need no quoting, else a fixed name. */
function shellWord(text: string): string {
  return /^[A-Za-z0-9._-]+$/.test(text) ? text : 'restored.git';
}

function comment(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}
