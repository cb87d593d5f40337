import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fixtureGit } from '@archiver/testing';
import { buildRestoreScript } from './restore-script';

const run = promisify(execFile);

// The script is run for real: bundles made by git, fetched by curl from file:// URLs, and the
// restored repository's refs compared byte for byte with the originals.
describe(buildRestoreScript.name, () => {
  let base: string;
  let origin: string;
  const forEachRef = async (dir: string) =>
    (await run('git', ['for-each-ref', '--format=%(objectname) %(refname)'], { cwd: dir, encoding: 'buffer' })).stdout as Buffer;
  const commit = async (message: string, parent?: string) =>
    (
      await fixtureGit(
        ['commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', ...(parent ? ['-p', parent] : []), '-m', message],
        origin,
      )
    )
      .toString()
      .trim();
  const refsOf = async () =>
    (await forEachRef(origin))
      .toString('latin1')
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ sha: line.slice(0, 40), nameBytes: Buffer.from(line.slice(41), 'latin1') }));

  beforeEach(async () => {
    base = await mkdtemp(path.join(tmpdir(), 'restore-script-'));
    origin = path.join(base, 'origin.git');
    await fixtureGit(['init', '--quiet', '--bare', origin], base);
  });
  afterEach(async () => rm(base, { recursive: true, force: true }));

  async function restore(script: string): Promise<string> {
    const file = path.join(base, 'restore.sh');
    await writeFile(file, script);
    const dir = path.join(base, `restored-${Math.random().toString(16).slice(2)}.git`);
    await run('sh', [file, dir], { cwd: base, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
    return dir;
  }

  it('rebuilds a chain of a full bundle and an increment, with every ref exact — odd bytes, quotes, % and $( in names', async () => {
    const first = await commit('one');
    const odd = Buffer.concat([Buffer.from("refs/heads/it's-100%-$(x)"), Buffer.from([0xff, 0xc3, 0x28])]);
    await fixtureGit(['update-ref', 'refs/heads/main', first], origin);
    // argv is UTF-8 text in Node: the raw name goes through stdin.
    await new Promise<void>((resolve, reject) => {
      const child = execFile('git', ['update-ref', '--stdin'], { cwd: origin }, (error) => (error ? reject(error) : resolve()));
      child.stdin!.end(Buffer.concat([Buffer.from('create '), odd, Buffer.from(` ${first}\n`)]));
    });
    await fixtureGit(['symbolic-ref', 'HEAD', 'refs/heads/main'], origin);
    await fixtureGit(['bundle', 'create', '--quiet', path.join(base, 'full.bundle'), '--all'], origin);
    const second = await commit('two', first);
    await fixtureGit(['update-ref', 'refs/heads/main', second], origin);
    await fixtureGit(['update-ref', 'refs/tags/v2', second], origin);
    await fixtureGit(['bundle', 'create', '--quiet', path.join(base, 'increment.bundle'), '--all', `^${first}`], origin);

    const refs = await refsOf();
    expect(refs.some((r) => r.nameBytes.equals(odd))).toBe(true);
    const dir = await restore(
      buildRestoreScript({
        archiveId: 'a1',
        url: 'https://host/o/r',
        finishedAt: '2026-01-01T00:00:00Z',
        defaultDir: 'r.git',
        bundleUrls: [`file://${base}/full.bundle`, `file://${base}/increment.bundle`],
        refs,
        headBranch: Buffer.from('refs/heads/main'),
        detachedHead: null,
      }),
    );
    expect((await forEachRef(dir)).equals(await forEachRef(origin))).toBe(true);
    expect((await fixtureGit(['symbolic-ref', 'HEAD'], dir)).toString().trim()).toBe('refs/heads/main');
    await fixtureGit(['fsck', '--no-progress'], dir);
  });

  it('refuses an increment whose prerequisites are missing (a chain applied out of order fails, never half-restores silently)', async () => {
    const first = await commit('one');
    await fixtureGit(['update-ref', 'refs/heads/main', first], origin);
    const second = await commit('two', first);
    await fixtureGit(['update-ref', 'refs/heads/main', second], origin);
    await fixtureGit(['bundle', 'create', '--quiet', path.join(base, 'increment.bundle'), '--all', `^${first}`], origin);
    const script = buildRestoreScript({
      archiveId: 'a1',
      url: 'u',
      finishedAt: 't',
      defaultDir: 'r.git',
      bundleUrls: [`file://${base}/increment.bundle`],
      refs: await refsOf(),
      headBranch: null,
      detachedHead: second,
    });
    await expect(restore(script)).rejects.toThrow();
  });

  it('restores an empty repository, and a detached HEAD', async () => {
    const empty = await restore(
      buildRestoreScript({
        archiveId: 'a',
        url: 'u',
        finishedAt: 't',
        defaultDir: 'e.git',
        bundleUrls: [],
        refs: [],
        headBranch: Buffer.from('refs/heads/trunk'),
        detachedHead: null,
      }),
    );
    expect((await forEachRef(empty)).length).toBe(0);
    expect((await fixtureGit(['symbolic-ref', 'HEAD'], empty)).toString().trim()).toBe('refs/heads/trunk');
  });

  it('keeps the script ASCII and quotes what the shell would interpret', () => {
    const script = buildRestoreScript({
      archiveId: 'a',
      url: "https://host/o/$(rm -rf ~)'\u00e9",
      finishedAt: 't',
      defaultDir: '$(evil)',
      bundleUrls: ["https://minio/b/k?X-Amz-Signature=a&b='c"],
      refs: [{ nameBytes: Buffer.from('refs/heads/$(touch pwned)`x`'), sha: 'a'.repeat(40) }],
      headBranch: null,
      detachedHead: null,
    });
    expect(/^[\x0a\x20-\x7e]*$/.test(script)).toBe(true);
    expect(script).toContain(`dir="\${1:-restored.git}"`);
    expect(script).toContain(`'https://minio/b/k?X-Amz-Signature=a&b='\\''c'`);
    expect(() =>
      buildRestoreScript({
        archiveId: 'a',
        url: 'u',
        finishedAt: 't',
        defaultDir: 'd',
        bundleUrls: [],
        refs: [{ nameBytes: Buffer.from('x'), sha: '; rm -rf /' }],
        headBranch: null,
        detachedHead: null,
      }),
    ).toThrow();
  });

  it('puts each stored LFS object where git-lfs reads it in the restored repository, and refuses what is not an oid', async () => {
    const objects = [Buffer.from('first object\0\xff'), Buffer.from('second')].map((bytes) => ({
      bytes,
      oid: createHash('sha256').update(bytes).digest('hex'),
    }));
    const sources = await Promise.all(
      objects.map(async ({ bytes, oid }) => {
        const file = path.join(base, `${oid}.src`);
        await writeFile(file, bytes);
        return { oid, url: `file://${file}` };
      }),
    );
    const input = {
      archiveId: 'a',
      url: 'u',
      finishedAt: 't',
      defaultDir: 'l.git',
      bundleUrls: [],
      refs: [],
      headBranch: null,
      detachedHead: null,
    };
    const dir = await restore(buildRestoreScript({ ...input, lfsObjects: sources }));
    for (const { bytes, oid } of objects) {
      expect((await readFile(path.join(dir, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4), oid))).equals(bytes)).toBe(true);
    }
    expect(() => buildRestoreScript({ ...input, lfsObjects: [{ oid: '../../etc', url: 'x' }] })).toThrow();
  });
});
