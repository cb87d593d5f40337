import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { LogFields, withoutReservedKeys } from './log-fields';
import { censorSecrets } from './secret-fields';

/**
 * Fields carried by every log line of a unit of work that is not an HTTP request (a queue
 * job), without passing them to each call. nestjs-pino keeps the current logger in an
 * AsyncLocalStorage; `run` starts a new store whose logger is bound to `fields`, so every
 * Nest `Logger` call made inside `fn` — across awaits and timers it starts — carries them.
 */
@Injectable()
export class LogContext {
  constructor(private readonly pino: PinoLogger) {}

  // Bound fields skip pino's `formatters.log`, where lines are censored: censor them here.
  run<T>(fields: LogFields, fn: () => T): T {
    return this.pino.runInContext(fn, { bindings: withoutReservedKeys(censorSecrets(fields)) });
  }

  /** Adds fields to the current context's remaining lines (inside `run` or an HTTP request). */
  assign(fields: LogFields): void {
    this.pino.assign(withoutReservedKeys(censorSecrets(fields)));
  }
}
