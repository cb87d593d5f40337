import { refsDifference } from './snapshot-restorer';

const ref = (name: string | Buffer, sha: string) => ({ nameBytes: Buffer.isBuffer(name) ? name : Buffer.from(name), sha });
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

describe(refsDifference.name, () => {
  it('finds equal lists equal, whatever their order', () => {
    expect(
      refsDifference([ref('refs/heads/main', A), ref('refs/tags/v1', B)], [ref('refs/tags/v1', B), ref('refs/heads/main', A)]),
    ).toBeNull();
    expect(refsDifference([], [])).toBeNull();
  });

  it.each([
    ['a missing ref', [ref('refs/heads/main', A)], [ref('refs/heads/main', A), ref('refs/heads/dev', B)], /"refs\/heads\/dev" is missing/],
    ['a moved ref', [ref('refs/heads/main', B)], [ref('refs/heads/main', A)], /"refs\/heads\/main" is b+, the manifest says a+/],
    [
      'an extra ref',
      [ref('refs/heads/main', A), ref('refs/heads/x', A)],
      [ref('refs/heads/main', A)],
      /"refs\/heads\/x" is not in the manifest/,
    ],
  ])('names %s', (_case, actual, expected, message) => {
    expect(refsDifference(actual, expected)).toMatch(message);
  });

  it('compares exact name bytes, not their text', () => {
    const latin1 = Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0xe9]);
    const otherInvalid = Buffer.from([0x72, 0x65, 0x66, 0x73, 0x2f, 0xe8]);
    expect(refsDifference([ref(latin1, A)], [ref(otherInvalid, A)])).not.toBeNull();
  });
});
