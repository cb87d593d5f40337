import { MappedReason } from './object-key-rules';
import { manifestHeadFields, mappedPathCount, SnapshotFileEntry } from './snapshot-manifest';

describe(manifestHeadFields.name, () => {
  const sut = manifestHeadFields;
  const sha = 'c'.repeat(40);

  it('keeps UTF-8 names as text only', () => {
    expect(
      sut({
        refs: [{ nameBytes: Buffer.from('refs/tags/v1'), sha, peeledSha: 'd'.repeat(40) }],
        commit: sha,
        commitSourceBytes: Buffer.from('HEAD'),
        defaultBranchBytes: Buffer.from('refs/heads/main'),
      }),
    ).toEqual({
      commit: sha,
      commitSource: 'HEAD',
      defaultBranch: 'refs/heads/main',
      refs: [{ name: 'refs/tags/v1', sha, peeledSha: 'd'.repeat(40) }],
      empty: false,
    });
  });

  it('adds the exact bytes of every name that is not UTF-8', () => {
    const odd = Buffer.from([...Buffer.from('refs/heads/'), 0xff]);
    const fields = sut({ refs: [{ nameBytes: odd, sha }], commit: sha, commitSourceBytes: odd, defaultBranchBytes: odd });
    expect(fields).toMatchObject({
      commitSource: 'refs/heads/\ufffd',
      commitSourceBase64: odd.toString('base64'),
      defaultBranch: 'refs/heads/\ufffd',
      defaultBranchBase64: odd.toString('base64'),
      refs: [{ name: 'refs/heads/\ufffd', nameBase64: odd.toString('base64'), sha }],
    });
  });

  it('calls a repository empty exactly when there is no commit to store', () => {
    expect(sut({ refs: [], commit: null, commitSourceBytes: null, defaultBranchBytes: Buffer.from('refs/heads/main') })).toEqual({
      commit: null,
      commitSource: null,
      defaultBranch: 'refs/heads/main',
      refs: [],
      empty: true,
    });
  });
});

describe(mappedPathCount.name, () => {
  it('counts the files not at files/<path>', () => {
    const file = (mappedBecause?: MappedReason): SnapshotFileEntry => ({
      path: 'p',
      key: 'k',
      ...(mappedBecause && { mappedBecause }),
      size: 0,
      mode: '100644',
      gitSha: 'a',
      sha256: 'b',
    });
    expect(mappedPathCount([file(), file(MappedReason.DUPLICATE), file(MappedReason.NOT_UTF8), file()])).toBe(2);
  });
});
