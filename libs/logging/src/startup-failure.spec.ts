import { logStartupFailure } from './startup-failure';
import { LogCapture } from './testing/log-capture';

describe(logStartupFailure.name, () => {
  it('writes one fatal JSON line in the shape of every other line', () => {
    const out = new LogCapture();
    logStartupFailure('injector', 'Invalid configuration:\n  REDIS_URL: must be a redis:// URL', out);
    expect(out.lines()).toEqual([
      expect.objectContaining({
        level: 'fatal',
        app: 'injector',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        msg: 'Invalid configuration:\n  REDIS_URL: must be a redis:// URL',
      }),
    ]);
  });
});
