import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileMismatch, StoredFileDigest } from './stored-file.digest';

const gitBlobId = (bytes: Buffer) => execFileSync('git', ['hash-object', '--stdin'], { input: bytes }).toString().trim();

describe(StoredFileDigest.name, () => {
  it.each([
    ['empty', Buffer.alloc(0)],
    ['text', Buffer.from('hello\n')],
    ['binary with NUL bytes', Buffer.from([0, 1, 2, 255, 0, 10])],
    ['larger than one chunk', Buffer.alloc(200_000, 7)],
  ])('hashes %s bytes as git and sha256 do, whatever the chunking', (_case, bytes) => {
    const sut = new StoredFileDigest(bytes.length, '0'.repeat(40));
    for (let i = 0; i < bytes.length; i += 4096) sut.update(bytes.subarray(i, i + 4096));
    expect(sut.digest()).toEqual({
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      gitSha: gitBlobId(bytes),
    });
  });

  it('uses sha256 blob ids for a sha256 repository', () => {
    const bytes = Buffer.from('abc');
    const sut = new StoredFileDigest(3, 'a'.repeat(64));
    sut.update(bytes);
    expect(sut.digest().gitSha).toBe(createHash('sha256').update('blob 3\0abc').digest('hex'));
  });
});

describe(fileMismatch.name, () => {
  const expected = { size: 3, sha256: 's'.repeat(64), gitSha: 'g'.repeat(40) };

  it('passes identical digests', () => {
    expect(fileMismatch({ ...expected }, expected)).toBeNull();
  });

  it.each([
    ['size', { size: 4 }, /4 bytes, the manifest says 3/],
    ['sha256', { sha256: 't'.repeat(64) }, /sha256 t+, the manifest says s+/],
    ['git blob id', { gitSha: 'h'.repeat(40) }, /git blob id h+, the manifest says g+/],
  ])('names a different %s', (_case, change, message) => {
    expect(fileMismatch({ ...expected, ...change }, expected)).toMatch(message);
  });

  it('checks size and git blob id alone for a file walked from listings (no sha256 recorded)', () => {
    const { sha256: _none, ...walked } = expected;
    expect(fileMismatch({ ...expected, sha256: 't'.repeat(64) }, walked)).toBeNull();
    expect(fileMismatch({ ...expected, gitSha: 'h'.repeat(40) }, walked)).toMatch(/git blob id h+/);
    expect(fileMismatch({ ...expected, size: 9 }, walked)).toMatch(/9 bytes/);
  });
});
