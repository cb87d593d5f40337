import { pino } from 'pino';
import { CALLER_FIELDS_KEY } from './log-fields';
import { loggerOptions, LogLevel } from './logger-options';
import { LogCapture } from './testing/log-capture';

describe(loggerOptions.name, () => {
  const capture = (level: LogLevel = 'info') => {
    const out = new LogCapture();
    return { sut: pino(loggerOptions('worker', level), out), out };
  };
  const isoTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

  it('writes one JSON line per event with a level label, an ISO time and the app', () => {
    const { sut, out } = capture();
    const before = Date.now();
    sut.info({ archiveId: 'a1', bytes: 10n }, 'archived');
    sut.warn('a message with "quotes"\nand a second line');
    const [info, warn] = out.lines();
    expect(info).toMatchObject({ level: 'info', app: 'worker', msg: 'archived', archiveId: 'a1', bytes: 10 });
    expect(warn).toMatchObject({ level: 'warn', msg: 'a message with "quotes"\nand a second line' });
    for (const line of [info, warn]) {
      expect(line.time).toMatch(isoTime);
      expect(Date.parse(line.time)).toBeGreaterThanOrEqual(before - 1);
      expect(Date.parse(line.time)).toBeLessThanOrEqual(Date.now());
    }
  });

  it.each<[LogLevel, string[]]>([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ])('at level %s writes only %j', (level, written) => {
    const { sut, out } = capture(level);
    sut.debug('debug');
    sut.info('info');
    sut.warn('warn');
    sut.error('error');
    expect(out.lines().map((line) => line.level)).toEqual(written);
  });

  // A caller's level, time or app would come after pino's own and win in any JSON reader.
  it.each([
    [{ level: 'x' }],
    [{ time: 0 }],
    [{ app: 'frontend' }],
    [{ level: 'fatal', time: '1970-01-01T00:00:00.000Z', app: 'evil', archiveId: 'a1' }],
    [{ level: { nested: true }, time: null }],
  ])('keeps its own level, time and app when a caller logs %j, and keeps the caller’s values aside', (fields) => {
    const { sut, out } = capture();
    const before = Date.now();
    sut.info({ ...fields, msg: 'hello' });
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', app: 'worker', msg: 'hello' });
    expect(line.time).toMatch(isoTime);
    expect(Date.parse(line.time)).toBeGreaterThanOrEqual(before - 1);
    const aside = Object.fromEntries(Object.entries(fields).filter(([key]) => ['level', 'time', 'app'].includes(key)));
    expect(line[CALLER_FIELDS_KEY]).toEqual(aside);
    if ('archiveId' in fields) expect(line.archiveId).toBe(fields.archiveId);
  });

  it('serializes errors with their stack', () => {
    const { sut, out } = capture();
    sut.error({ err: new Error('boom') }, 'clone failed');
    expect(out.lines()[0]).toMatchObject({ level: 'error', msg: 'clone failed', err: { type: 'Error', message: 'boom' } });
    expect((out.lines()[0].err as { stack: string }).stack).toContain('Error: boom');
  });

  const secret = 'Bearer eyJhbGciOiJSUzI1NiJ9.c2VjcmV0.c2ln';
  it.each([
    ['request headers', { req: { headers: { authorization: secret } } }],
    ['request cookies', { req: { headers: { cookie: `KEYCLOAK_SESSION=${secret}` } } }],
    ['capitalized header names', { request: { headers: { Authorization: secret, Cookie: secret } } }],
    ['response cookies', { res: { headers: { 'set-cookie': [secret] } } }],
    ['proxy credentials', { headers: { 'proxy-authorization': secret, 'x-api-key': secret } }],
    ['a bare header', { authorization: secret }],
    ['an HTTP client error', { err: Object.assign(new Error('401'), { headers: { authorization: secret } }) }],
    ['a repository credential', { credential: { kind: 'token', token: secret } }],
    ['a credential one object down', { body: { credential: { kind: 'basic', username: 'u', password: secret } } }],
    ['a bare token', { repository: { token: secret } }],
    ['an SSH key', { privateKey: secret }],
    ['an error of an HTTP client, under any key', { cause: Object.assign(new Error('401'), { headers: { Authorization: secret } }) }],
  ])('censors credentials in %s', (_case, fields) => {
    const { sut, out } = capture();
    sut.info(fields, 'request');
    expect(out.raw).toHaveLength(1);
    expect(out.raw[0]).not.toContain('eyJhbGciOiJSUzI1NiJ9');
    expect(out.raw[0]).toContain('[redacted]');
  });
});
