import { CENSORED, censorSecrets } from './secret-fields';

describe(censorSecrets.name, () => {
  const secret = 'hunter2-secret';

  it.each([
    ['a top-level secret', { token: secret }, { token: CENSORED }],
    [
      'any letter case',
      { Authorization: secret, COOKIE: secret, PrivateKey: secret },
      { Authorization: CENSORED, COOKIE: CENSORED, PrivateKey: CENSORED },
    ],
    ['one object down', { repository: { password: secret, url: 'u' } }, { repository: { password: CENSORED, url: 'u' } }],
    [
      'headers one object down',
      { req: { headers: { 'set-cookie': [secret], accept: '*/*' } } },
      { req: { headers: { 'set-cookie': CENSORED, accept: '*/*' } } },
    ],
    ['a whole credential object', { credential: { kind: 'ssh', privateKey: secret } }, { credential: CENSORED }],
    ['two objects down', { a: { b: { token: secret } } }, { a: { b: { token: CENSORED } } }],
  ])('censors %s', (_case, fields, expected) => {
    expect(censorSecrets(fields)).toEqual(expected);
    expect(JSON.stringify(censorSecrets(fields))).not.toContain(secret);
  });

  it('never changes the caller object', () => {
    const fields = { req: { headers: { authorization: secret } } };
    censorSecrets(fields);
    expect(fields.req.headers.authorization).toBe(secret);
  });

  it.each([
    ['a flat line', { method: 'POST', path: '/api/archives', status: 202 }],
    ['nested objects without secrets', { job: { id: 'j', data: { archiveId: 'a' } }, tags: ['token'] }],
    ['a key that only contains a secret word', { tokenCount: 3, passwordless: true, credentialSetBy: 'alice' }],
  ])('returns %s itself, uncopied', (_case, fields) => {
    expect(censorSecrets(fields)).toBe(fields);
  });

  it('keeps an Error an Error (prototype, message, stack) while censoring its properties', () => {
    const error = Object.assign(new TypeError('401 from upstream'), { headers: { authorization: secret }, status: 401 });
    const out = censorSecrets({ err: error }).err as TypeError & { headers: Record<string, string>; status: number };
    expect(out).toBeInstanceOf(TypeError);
    expect(out).not.toBe(error);
    expect(out.message).toBe('401 from upstream');
    expect(out.stack).toBe(error.stack);
    expect(out.status).toBe(401);
    expect(out.headers.authorization).toBe(CENSORED);
    expect(error.headers.authorization).toBe(secret);
  });

  it('leaves undefined secrets out rather than inventing a censored value', () => {
    const fields = { token: undefined, url: 'u' };
    expect(censorSecrets(fields)).toBe(fields);
  });
});
