import { JsonLogger } from './json-logger';

describe(JsonLogger.name, () => {
  const capture = (level: 'debug' | 'info' | 'warn' | 'error' = 'info') => {
    const lines: string[] = [];
    const sut = new JsonLogger('worker', level, (line) => lines.push(line));
    return { sut, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
  };

  it('writes one JSON object per line with level, app and context', () => {
    const { sut, entries } = capture();
    sut.log('started', 'Bootstrap');
    expect(entries()).toEqual([expect.objectContaining({ level: 'info', app: 'worker', context: 'Bootstrap', msg: 'started' })]);
  });

  it('merges structured fields and keeps error stacks', () => {
    const { sut, entries } = capture();
    sut.log({ msg: 'archived', archiveId: 'a1', bytes: 10n });
    sut.error('clone failed', 'Error: boom\n    at x', 'ArchiveService');
    const [info, error] = entries();
    expect(info).toMatchObject({ msg: 'archived', archiveId: 'a1', bytes: '10' });
    expect(error).toMatchObject({ level: 'error', msg: 'clone failed', context: 'ArchiveService', stack: 'Error: boom\n    at x' });
  });

  it('drops messages below the configured level', () => {
    const { sut, entries } = capture('warn');
    sut.debug('noise');
    sut.log('info');
    sut.warn('careful');
    expect(entries().map((e) => e.msg)).toEqual(['careful']);
  });
});
