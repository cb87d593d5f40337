import { createImportSchema } from './import.dto';

describe('createImportSchema', () => {
  const sut = createImportSchema;
  const valid = { forge: 'gitea', baseUrl: 'https://git.example.org', owner: 'my-org' };

  it('accepts users, organizations and group paths, with defaults for the flags', () => {
    for (const owner of ['my-org', 'group/sub', 'group/sub/deeper', '.hidden', 'a.b_c-d']) {
      expect(sut.safeParse({ ...valid, owner }).success).toBe(true);
    }
    expect(sut.parse(valid)).toEqual({ ...valid, includeForks: false, includeArchived: false });
  });

  it('refuses owners that would walk out of the API path', () => {
    for (const owner of ['..', '.', '../etc', 'a/..', 'a/../b', 'a//b', '/a', 'a/', 'a b', 'a?b', 'a%2fb', '']) {
      expect({ owner, ok: sut.safeParse({ ...valid, owner }).success }).toEqual({ owner, ok: false });
    }
  });

  it('refuses unknown forges and fields, bad globs and flags that are not booleans', () => {
    for (const body of [
      { ...valid, forge: 'bitbucket' },
      { ...valid, password: 'x' },
      { ...valid, include: '' },
      { ...valid, exclude: 'a\nb' },
      { ...valid, includeForks: 'true' },
      { ...valid, intervalHours: 0 },
      { ...valid, token: '' },
    ]) {
      expect({ body, ok: sut.safeParse(body).success }).toEqual({ body, ok: false });
    }
  });
});
