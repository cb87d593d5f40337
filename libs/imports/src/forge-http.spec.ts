import { ForgePager, nextLink } from './forge-http';
import { ImportErrorCode } from './import.error';
import { recordedTransport } from './forges/recorded-transport';

const collect = async (pages: AsyncGenerator<unknown[]>) => {
  const all: unknown[][] = [];
  for await (const page of pages) all.push(page);
  return all;
};

describe(ForgePager.name, () => {
  const base = 'https://forge.example/api/repos';
  const linkTo = (url: string) => ({ link: `<${url}>; rel="next"` });

  it('stops after the last page and fails IMPORT_TOO_MANY_PAGES one page past the limit, whatever the limit', async () => {
    for (const maxPages of [1, 2, 5]) {
      // A forge that always has another page.
      const answers = Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`${base}?page=${i + 1}`, { body: `[${i}]`, headers: linkTo(`${base}?page=${i + 2}`) }]),
      );
      const sut = new ForgePager(recordedTransport(answers), maxPages);
      const pages: unknown[][] = [];
      const run = (async () => {
        for await (const page of sut.pages(new URL(`${base}?page=1`), {}, (p, _i, url) => nextLink(p.headers, url))) pages.push(page);
      })();
      await expect(run).rejects.toMatchObject({ code: ImportErrorCode.IMPORT_TOO_MANY_PAGES });
      expect(pages).toHaveLength(maxPages);
    }
    const finite = new ForgePager(
      recordedTransport({ [`${base}?page=1`]: { body: '[1]', headers: linkTo(`${base}?page=2`) }, [`${base}?page=2`]: { body: '[2]' } }),
      2,
    );
    await expect(collect(finite.pages(new URL(`${base}?page=1`), {}, (p, _i, url) => nextLink(p.headers, url)))).resolves.toEqual([
      [1],
      [2],
    ]);
  });

  it('never follows a next page to another origin, where the token would go', async () => {
    for (const elsewhere of [
      'https://evil.example/api/repos?page=2',
      'http://forge.example/api/repos?page=2',
      'https://forge.example:8443/api/repos?page=2',
    ]) {
      const transport = recordedTransport({ [`${base}?page=1`]: { body: '[1]', headers: linkTo(elsewhere) } });
      const sut = new ForgePager(transport, 10);
      await expect(
        collect(sut.pages(new URL(`${base}?page=1`), { Authorization: 'token x' }, (p, _i, url) => nextLink(p.headers, url))),
      ).rejects.toMatchObject({
        code: ImportErrorCode.FORGE_RESPONSE_INVALID,
      });
      expect(transport.requests.map((r) => r.url)).toEqual([`${base}?page=1`]);
    }
  });

  it('maps each kind of answer to a code', async () => {
    const cases: [number, Record<string, string>, string, ImportErrorCode | null][] = [
      [401, {}, '{}', ImportErrorCode.FORGE_AUTH_FAILED],
      [403, {}, '{}', ImportErrorCode.FORGE_AUTH_FAILED],
      [403, { 'retry-after': '60' }, '{}', ImportErrorCode.FORGE_UNAVAILABLE],
      [429, {}, '{}', ImportErrorCode.FORGE_UNAVAILABLE],
      [500, {}, '{}', ImportErrorCode.FORGE_UNAVAILABLE],
      [503, {}, '{}', ImportErrorCode.FORGE_UNAVAILABLE],
      [301, { location: 'https://elsewhere.example/' }, '', ImportErrorCode.FORGE_RESPONSE_INVALID],
      [200, {}, '<html>login</html>', ImportErrorCode.FORGE_RESPONSE_INVALID],
      [200, {}, '{"not": "a list"}', ImportErrorCode.FORGE_RESPONSE_INVALID],
    ];
    for (const [status, headers, body, code] of cases) {
      const sut = new ForgePager(recordedTransport({ [base]: { status, headers, body } }), 3);
      await expect(collect(sut.pages(new URL(base), {}, () => null))).rejects.toMatchObject({ code });
    }
  });
});

describe(nextLink.name, () => {
  const page = new URL('https://forge.example/api/repos?page=1');

  it('finds rel="next" among several links, relative or absolute, in any order or quoting', () => {
    expect(
      nextLink({ link: '<https://forge.example/api/repos?page=2>; rel="next", <https://forge.example/api/repos?page=9>; rel="last"' }, page)
        ?.href,
    ).toBe('https://forge.example/api/repos?page=2');
    expect(nextLink({ link: '<?page=1>; rel="prev", </api/repos?page=3>; rel=next' }, page)?.href).toBe(
      'https://forge.example/api/repos?page=3',
    );
    expect(nextLink({ link: '<https://forge.example/x>; rel="prev next"' }, page)?.href).toBe('https://forge.example/x');
  });

  it('answers null without a next link', () => {
    expect(nextLink({}, page)).toBeNull();
    expect(nextLink({ link: '<https://forge.example/api/repos?page=1>; rel="first"' }, page)).toBeNull();
    expect(nextLink({ link: 'garbage' }, page)).toBeNull();
  });
});
