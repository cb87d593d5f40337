import { createHmac } from 'node:crypto';
import { signatureOf, verifyPushHook } from './webhook-signature';

const secret = 'hook-secret-0123456789abcdef';
const hex = (body: Buffer | string, key = secret) => createHmac('sha256', key).update(body).digest('hex');
const bodies: [string, Buffer][] = [
  ['a JSON push event', Buffer.from('{"ref":"refs/heads/main","after":"0123"}')],
  ['an empty body', Buffer.alloc(0)],
  ['non-ASCII bytes', Buffer.from('{"msg":"größe ✓"}\n', 'utf8')],
];

describe(verifyPushHook.name, () => {
  describe.each(bodies)('over %s', (_name, body) => {
    it.each([
      ['github', { 'x-hub-signature-256': `sha256=${hex(body)}` }],
      ['gitea', { 'x-gitea-signature': hex(body) }],
      ['gitlab', { 'x-gitlab-token': secret }],
    ])('accepts a correct %s request', (scheme, headers) => {
      expect(verifyPushHook(headers, body, secret)).toBe(scheme);
    });

    const good = hex(body);
    const flipped = (good[0] === '0' ? '1' : '0') + good.slice(1);
    it.each([
      ['no signature at all', {}],
      ['GitHub: another secret', { 'x-hub-signature-256': `sha256=${hex(body, 'another-secret-0123456')}` }],
      ['GitHub: one digit changed', { 'x-hub-signature-256': `sha256=${flipped}` }],
      ['GitHub: missing prefix', { 'x-hub-signature-256': good }],
      ['GitHub: the sha1 prefix', { 'x-hub-signature-256': `sha1=${good}` }],
      ['GitHub: upper-case prefix', { 'x-hub-signature-256': `SHA256=${good}` }],
      ['GitHub: upper-case hex', { 'x-hub-signature-256': `sha256=${good.toUpperCase()}` }],
      ['GitHub: too short', { 'x-hub-signature-256': `sha256=${good.slice(0, 63)}` }],
      ['GitHub: too long', { 'x-hub-signature-256': `sha256=${good}0` }],
      ['GitHub: empty', { 'x-hub-signature-256': '' }],
      ['GitHub: sent twice', { 'x-hub-signature-256': [`sha256=${good}`, `sha256=${good}`] }],
      ['Gitea: the GitHub prefix', { 'x-gitea-signature': `sha256=${good}` }],
      ['Gitea: upper-case hex', { 'x-gitea-signature': good.toUpperCase() }],
      ['Gitea: truncated', { 'x-gitea-signature': good.slice(0, 32) }],
      ['Gitea: padded', { 'x-gitea-signature': ` ${good}` }],
      ['Gitea: not hex', { 'x-gitea-signature': 'z'.repeat(64) }],
      ['GitLab: another token', { 'x-gitlab-token': 'hook-secret-0123456789abcdeF' }],
      ['GitLab: a prefix of the secret', { 'x-gitlab-token': secret.slice(0, -1) }],
      ['GitLab: the secret and more', { 'x-gitlab-token': `${secret}x` }],
      ['GitLab: empty', { 'x-gitlab-token': '' }],
      ['GitLab: the HMAC instead of the secret', { 'x-gitlab-token': good }],
    ])('refuses %s', (_case, headers) => {
      expect(verifyPushHook(headers as Record<string, string>, body, secret)).toBeNull();
    });
  });

  it('signs the exact bytes: a signature of the re-serialised JSON does not verify the raw body', () => {
    const raw = Buffer.from('{ "ref" : "refs/heads/main" }');
    const reserialised = JSON.stringify(JSON.parse(raw.toString()));
    expect(verifyPushHook({ 'x-gitea-signature': hex(reserialised) }, raw, secret)).toBeNull();
  });
});

describe(signatureOf.name, () => {
  it('is sha256= and the lower-case hex HMAC-SHA256 of the body under the secret', () => {
    expect(signatureOf('s3cret', '{"a":1}')).toBe(`sha256=${createHmac('sha256', 's3cret').update('{"a":1}').digest('hex')}`);
    expect(signatureOf('s3cret', '')).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});
