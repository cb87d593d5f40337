import { createHash } from 'node:crypto';
import { GitError, GitErrorCode } from './git.error';
import { parseLsRemote, refsHash } from './remote-refs';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const SHA256_ID = 'd'.repeat(64);

const out = (...lines: (string | Buffer)[]): Buffer => Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l), Buffer.from('\n')])));
const line = (sha: string, name: Buffer | string): Buffer => Buffer.concat([Buffer.from(`${sha}\t`), Buffer.from(name)]);
const ref = (name: Buffer | string, sha: string) => ({ nameBytes: Buffer.from(name), sha });

describe(parseLsRemote.name, () => {
  it('reads HEAD as a symbolic ref, refs sorted by name bytes, and peeled tags', () => {
    const sut = parseLsRemote(
      out('ref: refs/heads/main\tHEAD', `${A}\tHEAD`, `${B}\trefs/tags/v2`, `${C}\trefs/tags/v2^{}`, `${A}\trefs/heads/main`),
    );
    expect(sut.head).toEqual({ sha: A, target: { name: 'refs/heads/main', nameBytes: Buffer.from('refs/heads/main') } });
    expect(sut.refs).toEqual([
      { name: 'refs/heads/main', nameBytes: Buffer.from('refs/heads/main'), sha: A },
      { name: 'refs/tags/v2', nameBytes: Buffer.from('refs/tags/v2'), sha: B, peeledSha: C },
    ]);
  });

  it.each([
    ['a byte that is never UTF-8', Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0x68, 0x2f, 0xff])],
    ['a truncated UTF-8 sequence', Buffer.concat([Buffer.from('refs/tags/v'), Buffer.from([0xc3, 0x28])])],
    ['valid UTF-8', Buffer.from('refs/heads/h\u00e9llo-\u2713')],
    ['spaces and odd punctuation', Buffer.from('refs/heads/a b@{c}')],
  ])('keeps a name with %s exactly, bytes and peeled line alike', (_what, name) => {
    const sut = parseLsRemote(out(line(A, name), line(B, Buffer.concat([name, Buffer.from('^{}')]))));
    expect(sut.refs).toHaveLength(1);
    expect(sut.refs[0]?.nameBytes).toEqual(name);
    expect(sut.refs[0]?.name).toBe(name.toString('utf8'));
    expect(sut.refs[0]?.peeledSha).toBe(B);
  });

  it.each([
    ['an empty repository (no output)', Buffer.alloc(0), null],
    ['a detached HEAD', out(`${A}\tHEAD`), { sha: A }],
    ['HEAD naming a branch that does not exist', out('ref: refs/heads/gone\tHEAD'), { sha: null, target: expect.anything() }],
  ])('reads %s', (_what, stdout, head) => {
    const sut = parseLsRemote(stdout);
    expect(sut.head).toEqual(head);
    expect(sut.refs).toEqual([]);
  });

  it('accepts SHA-256 object ids and keeps other symbolic refs only as the plain refs git lists again', () => {
    const sut = parseLsRemote(out('ref: refs/remotes/origin/main\trefs/remotes/origin/HEAD', `${SHA256_ID}\trefs/remotes/origin/HEAD`));
    expect(sut.refs).toEqual([expect.objectContaining({ name: 'refs/remotes/origin/HEAD', sha: SHA256_ID })]);
    expect(sut.head).toBeNull();
  });

  it.each([
    ['no tab', `${A} refs/heads/main`],
    ['a short object id', `${A.slice(1)}\trefs/heads/main`],
    ['upper-case hex', `${A.toUpperCase()}\trefs/heads/main`],
    ['an empty name', `${A}\t`],
    ['a peeled line without its tag', `${A}\trefs/tags/lonely^{}`],
  ])('refuses output with %s as GIT_FAILED', (_what, text) => {
    expect(() => parseLsRemote(out(text))).toThrow(GitError);
    expect(() => parseLsRemote(out(text))).toThrow(expect.objectContaining({ code: GitErrorCode.GIT_FAILED }));
  });
});

describe(refsHash.name, () => {
  const refs = [ref('refs/heads/main', A), ref('refs/tags/v1', B), ref(Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0x78, 0xff]), C)];
  const sut = refsHash;

  it('is the documented SHA-256 over `<name> NUL <sha> LF` of refs/* in name-byte order', () => {
    const sorted = [...refs].sort((a, b) => Buffer.compare(a.nameBytes, b.nameBytes));
    const expected = createHash('sha256')
      .update(Buffer.concat(sorted.map((r) => Buffer.concat([r.nameBytes, Buffer.from([0]), Buffer.from(`${r.sha}\n`)]))))
      .digest('hex');
    expect(sut(refs)).toBe(expected);
  });

  it('does not depend on the order refs are listed in, nor on HEAD, peeled ids or the case of the hex', () => {
    const listed = [
      { ...ref('refs/tags/v1', B.toUpperCase()), peeledSha: C },
      ref('HEAD', A),
      ref(Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0x78, 0xff]), C),
      ref('refs/heads/main', A),
    ];
    expect(sut(listed)).toBe(sut(refs));
  });

  it.each([
    ['a ref moved', [ref('refs/heads/main', C), ...refs.slice(1)]],
    ['a ref added', [...refs, ref('refs/heads/new', A)]],
    ['a ref deleted', refs.slice(1)],
    ['a ref renamed', [ref('refs/heads/mainx', A), ...refs.slice(1)]],
    ['a name differing in one non-UTF-8 byte', [...refs.slice(0, 2), ref(Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0x78, 0xfe]), C)]],
    ['two names merged into one', [ref('refs/heads/mainrefs/tags/v1', A), refs[2] ?? ref('x', A)]],
  ])('changes when %s', (_what, changed) => {
    expect(sut(changed)).not.toBe(sut(refs));
  });

  it('of no refs is the hash of nothing', () => {
    expect(sut([])).toBe(createHash('sha256').digest('hex'));
  });
});
