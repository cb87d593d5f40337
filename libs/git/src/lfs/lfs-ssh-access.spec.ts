import { LfsMissingCode } from './lfs-missing';
import { MAX_LFS_AUTHENTICATE_ANSWER_BYTES, parseLfsAuthenticateAnswer, serverWords } from './lfs-ssh-access';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const HREF = 'http://127.0.0.1:3000/owner/repo.git/info/lfs';
const answer = (body: unknown) => Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
const ok = (extra: Record<string, unknown> = {}) => ({ href: HREF, header: { Authorization: 'Bearer abc.def' }, ...extra });

describe(parseLfsAuthenticateAnswer.name, () => {
  it("takes the href as the endpoint and the headers as they are (Gitea's answer)", () => {
    expect(parseLfsAuthenticateAnswer(answer(ok()), NOW)).toEqual({ endpoint: HREF, header: { Authorization: 'Bearer abc.def' } });
  });

  it.each([
    ['no header at all', { href: `${HREF}/` }, { endpoint: HREF, header: {} }],
    ['expires_in in the future', ok({ expires_in: 3600 }), { expiresAt: NOW + 3_600_000 }],
    ['expires_at in the future', ok({ expires_at: '2026-12-01T01:00:00Z' }), { expiresAt: NOW + 3_600_000 }],
    ['expires_in winning over a past expires_at', ok({ expires_in: 60, expires_at: '2000-01-01T00:00:00Z' }), { expiresAt: NOW + 60_000 }],
    ['unknown fields', ok({ extra: [1, 2] }), { endpoint: HREF }],
    ['an https href with a path', { href: 'https://lfs.example/a/b' }, { endpoint: 'https://lfs.example/a/b' }],
  ])('accepts %s', (_name, body, expected) => {
    expect(parseLfsAuthenticateAnswer(answer(body), NOW)).toMatchObject(expected);
  });

  it.each([
    ['nothing', ''],
    ['plain text', 'Welcome to the server!\n'],
    ['truncated JSON', '{"href": "http://x'],
    ['JSON null', 'null'],
    ['a JSON list', `[${JSON.stringify(ok())}]`],
    ['a JSON string', '"http://127.0.0.1/"'],
    ['two JSON objects', `${JSON.stringify(ok())}${JSON.stringify(ok())}`],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['more than the cap', `{"href":"${HREF}","pad":"${'x'.repeat(MAX_LFS_AUTHENTICATE_ANSWER_BYTES)}"}`],
  ])('refuses an answer that is %s', (_name, raw) => {
    const sut = parseLfsAuthenticateAnswer(typeof raw === 'string' ? answer(raw) : raw, NOW);
    expect(sut).toEqual({ missing: { code: LfsMissingCode.INVALID_ANSWER, message: expect.stringMatching(/^git-lfs-authenticate /) } });
  });

  it.each([
    ['no href', { header: {} }],
    ['a numeric href', { href: 42 }],
    ['a relative href', { href: '/owner/repo.git/info/lfs' }],
    ['an ssh href', { href: 'ssh://git@forge.example/o/r.git' }],
    ['a file href', { href: 'file:///etc/passwd' }],
    ['a javascript href', { href: 'javascript:alert(1)' }],
    ['an ftp href', { href: 'ftp://forge.example/lfs' }],
    ['an href with credentials', { href: 'http://user:pw@127.0.0.1/lfs' }],
    ['an href with a user name only', { href: 'http://user@127.0.0.1/lfs' }],
    ['an href with a query', { href: `${HREF}?token=x` }],
    ['an href with a fragment', { href: `${HREF}#x` }],
  ])('refuses %s', (_name, body) => {
    expect(parseLfsAuthenticateAnswer(answer(body), NOW)).toMatchObject({ missing: { code: LfsMissingCode.INVALID_ANSWER } });
  });

  it.each([
    ['a value with CR LF', { Authorization: 'Bearer x\r\nHost: evil.example' }],
    ['a value with a bare LF', { Authorization: 'Bearer x\nX-Other: 1' }],
    ['a value with a bare CR', { Authorization: 'Bearer x\rX-Other: 1' }],
    ['a value with NUL', { Authorization: 'Bearer x\0' }],
    ['a name with CR LF', { 'X-A\r\nHost': 'evil' }],
    ['a name with a colon', { 'X-A:': 'v' }],
    ['a name with a space', { 'X A': 'v' }],
    ['an empty name', { '': 'v' }],
    ['a Host header', { Host: 'evil.example' }],
    ['a Content-Length header', { 'content-length': '0' }],
    ['a Transfer-Encoding header', { 'Transfer-Encoding': 'chunked' }],
    ['a non-string value', { Authorization: 1 }],
    ['a nested value', { Authorization: { a: 'b' } }],
  ])('refuses headers with %s', (_name, header) => {
    expect(parseLfsAuthenticateAnswer(answer({ href: HREF, header }), NOW)).toMatchObject({
      missing: { code: LfsMissingCode.INVALID_ANSWER, message: expect.stringContaining('header') },
    });
  });

  it.each([
    ['a list', ['Authorization: x']],
    ['a string', 'Authorization: x'],
    ['null', null],
  ])('refuses a "header" that is %s', (_name, header) => {
    expect(parseLfsAuthenticateAnswer(answer({ href: HREF, header }), NOW)).toMatchObject({
      missing: { code: LfsMissingCode.INVALID_ANSWER },
    });
  });

  it.each([
    ['expires_in 0', { expires_in: 0 }],
    ['a negative expires_in', { expires_in: -5 }],
    ['an expires_at in the past', { expires_at: '2026-11-30T23:59:59Z' }],
    ['an expires_at of now', { expires_at: new Date(NOW).toISOString() }],
  ])('refuses a credential already expired: %s', (_name, extra) => {
    expect(parseLfsAuthenticateAnswer(answer(ok(extra)), NOW)).toEqual({
      missing: { code: LfsMissingCode.INVALID_ANSWER, message: expect.stringMatching(/already expired/) },
    });
  });

  it.each([
    ['a string expires_in', { expires_in: '3600' }],
    ['a null expires_in', { expires_in: null }],
    ['an expires_at that is no date', { expires_at: 'tomorrow' }],
    ['a numeric expires_at', { expires_at: 1_900_000_000 }],
  ])('refuses %s', (_name, extra) => {
    expect(parseLfsAuthenticateAnswer(answer(ok(extra)), NOW)).toMatchObject({ missing: { code: LfsMissingCode.INVALID_ANSWER } });
  });

  it('never puts the answered header value into a reason', () => {
    const secret = 'Bearer very-secret-token';
    for (const body of [
      { href: 'ftp://x/', header: { Authorization: secret } },
      ok({ header: { Authorization: secret }, expires_in: 0 }),
    ]) {
      expect(JSON.stringify(parseLfsAuthenticateAnswer(answer(body), NOW))).not.toContain('very-secret-token');
    }
  });
});

describe(serverWords.name, () => {
  it.each([
    ["Gitea's framed error", 'error:\nerror: Cannot find repository: o/r\nerror:\n', 'Cannot find repository: o/r'],
    ['several lines', 'fatal: one\r\ntwo\n', 'one; two'],
    ['nothing', '', 'no message'],
    ['control characters', 'a\u001b[31mred\u0007', 'a [31mred '],
  ])('makes %s one plain line', (_name, stderr, expected) => {
    expect(serverWords(stderr)).toBe(expected);
  });

  it('keeps at most 200 characters', () => {
    expect(serverWords('x'.repeat(5000))).toHaveLength(200);
  });
});
