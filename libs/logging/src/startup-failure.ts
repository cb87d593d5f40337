import { type DestinationStream, destination, pino } from 'pino';
import { loggerOptions } from './logger-options';

/**
 * One fatal JSON line, in the same shape as every other line, for failures before Nest and its
 * logger exist (invalid configuration). Written synchronously: the process exits right after.
 */
export function logStartupFailure(app: string, message: string, stream: DestinationStream = destination({ dest: 2, sync: true })): void {
  pino(loggerOptions(app, 'info'), stream).fatal(message);
}
