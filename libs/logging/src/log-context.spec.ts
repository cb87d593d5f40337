import { Global, Logger, Module } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { setTimeout as delay } from 'node:timers/promises';
import { APP_CONFIG } from '@archiver/config';
import { LogContext } from './log-context';
import { LoggingModule, useAppLogger } from './logging.module';
import { LogCapture } from './testing/log-capture';

@Global()
@Module({ providers: [{ provide: APP_CONFIG, useValue: { logLevel: 'debug' } }], exports: [APP_CONFIG] })
class TestConfigModule {}

// The whole chain the apps use: Nest's Logger → nestjs-pino → pino, with LogContext's store.
describe(LogContext.name, () => {
  const out = new LogCapture();
  const logger = new Logger('ArchiveService');
  let moduleRef: TestingModule;
  let sut: LogContext;

  beforeAll(async () => {
    moduleRef = await Test.createTestingModule({ imports: [TestConfigModule, LoggingModule.forApp('worker', out)] }).compile();
    useAppLogger(moduleRef);
    sut = moduleRef.get(LogContext);
  });
  afterAll(() => moduleRef.close());
  beforeEach(() => out.clear());

  it('keeps Nest call sites as they are: object fields merged, msg kept, the class as context', () => {
    logger.log({ msg: 'archived', archiveId: 'a1', files: 3 });
    logger.warn('plain text');
    logger.error('clone failed', 'Error: boom\n    at clone (safe-clone.ts:1:1)');
    expect(out.lines()).toEqual([
      expect.objectContaining({ level: 'info', app: 'worker', context: 'ArchiveService', msg: 'archived', archiveId: 'a1', files: 3 }),
      expect.objectContaining({ level: 'warn', context: 'ArchiveService', msg: 'plain text' }),
      expect.objectContaining({ level: 'error', context: 'ArchiveService', err: expect.objectContaining({ message: 'clone failed' }) }),
    ]);
  });

  it('binds its fields to every line logged inside, across awaits and timers, and to none outside', async () => {
    await sut.run({ archiveId: 'a1', queue: 'archive' }, async () => {
      logger.debug({ msg: 'claimed' });
      await delay(5);
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          logger.log({ msg: 'from a timer' });
          resolve();
        }, 1),
      );
      logger.log({ msg: 'archived' });
    });
    logger.log({ msg: 'after the job' });
    const lines = out.lines();
    expect(lines.map((line) => [line.msg, line.archiveId, line.queue])).toEqual([
      ['claimed', 'a1', 'archive'],
      ['from a timer', 'a1', 'archive'],
      ['archived', 'a1', 'archive'],
      ['after the job', undefined, undefined],
    ]);
  });

  it('keeps concurrent jobs apart, and `assign` adds to the current job only', async () => {
    const job = (archiveId: string, steps: number) =>
      sut.run({ archiveId }, async () => {
        sut.assign({ runId: `run-${archiveId}` });
        for (let step = 0; step < steps; step++) {
          logger.log({ msg: 'step', step });
          await delay(1);
        }
      });
    await Promise.all([job('a1', 5), job('a2', 5), job('a3', 3)]);
    const lines = out.lines();
    expect(lines).toHaveLength(13);
    for (const line of lines) expect(line.runId).toBe(`run-${String(line.archiveId)}`);
    expect(new Set(lines.map((line) => line.archiveId))).toEqual(new Set(['a1', 'a2', 'a3']));
  });

  it.each([
    ['a log call', () => sut.run({ archiveId: 'a1' }, () => logger.log({ msg: 'forged', level: 'fatal', time: 0, app: 'x' }))],
    ['bound fields', () => sut.run({ archiveId: 'a1', level: 'fatal', time: 0, app: 'x' }, () => logger.log({ msg: 'forged' }))],
    [
      'assigned fields',
      () =>
        sut.run({ archiveId: 'a1' }, () => {
          sut.assign({ level: 'fatal', time: 0, app: 'x' });
          logger.log({ msg: 'forged' });
        }),
    ],
  ])('cannot have its level, time or app overwritten through %s', (_case, act) => {
    const before = Date.now();
    act();
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', app: 'worker', msg: 'forged', archiveId: 'a1' });
    expect(Date.parse(line.time)).toBeGreaterThanOrEqual(before - 1);
  });

  it.each([
    ['bound fields', () => sut.run({ archiveId: 'a1', credential: { token: 'sekret-1' } }, () => logger.log({ msg: 'bound' }))],
    [
      'assigned fields',
      () =>
        sut.run({ archiveId: 'a1' }, () => {
          sut.assign({ upstream: { password: 'sekret-1' } });
          logger.log({ msg: 'bound' });
        }),
    ],
  ])('censors secrets in %s', (_case, act) => {
    act();
    expect(out.raw.join('')).not.toContain('sekret-1');
    expect(out.raw.join('')).toContain('[redacted]');
  });
});
