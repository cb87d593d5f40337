import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import { type DestinationStream, destination, type LoggerOptions, stdTimeFunctions } from 'pino';
import type { Options as HttpLoggerOptions } from 'pino-http';
import type { AppConfig } from '@archiver/config';
import { withoutReservedKeys } from './log-fields';
import { censorSecrets } from './secret-fields';
import { assignRequestId } from './request-id';

export type LogLevel = AppConfig['logLevel'];

/**
 * pino's settings for one app: one JSON line per event with `level` as a label, an ISO `time`,
 * the app's name, and nothing a caller logs able to replace those (see withoutReservedKeys).
 */
export function loggerOptions(app: string, level: LogLevel): LoggerOptions {
  return {
    level,
    base: { app, pid: process.pid, hostname: os.hostname() },
    timestamp: stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      // Whatever logs a request, a response, an HTTP client's error or a credential gets its
      // secrets censored (secret-fields.ts); the access log itself records no headers at all
      // (see accessFields).
      // Fields bound to a child logger do not pass here: LogContext censors those.
      log: (fields) => withoutReservedKeys(censorSecrets(fields)),
    },
  };
}

/** The Express request as the access log reads it, after routing. */
type RoutedRequest = IncomingMessage & { originalUrl?: string; baseUrl?: string; route?: { path?: unknown } };

const MAX_LOGGED_PATH = 512;

/** The path only: a query string may carry tokens, codes or other secrets. */
export function requestPath(req: RoutedRequest): string {
  const url = req.originalUrl ?? req.url ?? '';
  const end = url.search(/[?#]/);
  return (end === -1 ? url : url.slice(0, end)).slice(0, MAX_LOGGED_PATH);
}

/** The route template (`/api/archives/:id`) when one matched: groups requests without their ids. */
function requestRoute(req: RoutedRequest): string | undefined {
  return typeof req.route?.path === 'string' ? `${req.baseUrl ?? ''}${req.route.path}` : undefined;
}

const isHealthCheck = (req: RoutedRequest) => /^\/health(\/|$)/.test(requestPath(req));

function accessFields(req: RoutedRequest, res: ServerResponse, durationMs: unknown) {
  return { method: req.method, path: requestPath(req), route: requestRoute(req), status: res.statusCode, durationMs };
}

/**
 * nestjs-pino's `pinoHttp` settings: pino's, plus a request id bound to every line logged
 * while serving a request (and echoed as `x-request-id`), and one access line per request.
 * Probes of /health come often and say little, so they are logged at debug.
 *
 * Lines go to stdout synchronously, as `process.stdout.write` does for pipes and files: Nest
 * ends a process by re-raising SIGTERM after shutdown, which skips the exit hook pino's
 * asynchronous destination needs to flush, and the last lines (why a job stopped) matter most.
 */
export function httpLoggerOptions(
  app: string,
  level: LogLevel,
  stream: DestinationStream = destination({ dest: 1, sync: true }),
): HttpLoggerOptions<RoutedRequest> {
  return {
    ...loggerOptions(app, level),
    stream,
    genReqId: assignRequestId,
    // Bind only the id to the request's lines, not the whole request with its headers.
    quietReqLogger: true,
    quietResLogger: true,
    customLogLevel: (req, res, error) => {
      if (isHealthCheck(req)) return 'debug';
      return error || res.statusCode >= 500 ? 'error' : 'info';
    },
    customSuccessObject: (req, res, value: { responseTime: number }) => accessFields(req, res, value.responseTime),
    customErrorObject: (req, res, error, value: { responseTime: number }) => ({
      ...accessFields(req, res, value.responseTime),
      error: error.message,
    }),
  };
}
