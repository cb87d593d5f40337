import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { toApiErrorResponse } from './api-error.mapper';

export type { ApiErrorBody } from './api.error';

/**
 * Every error leaves the API as `{"error": {"code", "message"}}` with a status that fits:
 * HTTP exceptions keep theirs, the libs' coded errors are mapped (api-error.mapper.ts), and
 * anything unexpected is logged and answered with a 500 that leaks no internals.
 * An error answered before the request's body has arrived (too large, no token, wrong type)
 * also closes the connection: otherwise Node would keep reading, and waiting for, a body
 * nobody will use, for as long as the client cares to dribble it.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const { status, body } = toApiErrorResponse(exception);
    if (status >= 500) {
      this.logger.error({ msg: 'request failed', code: body.error.code, error: (exception as Error)?.message, cause: causeOf(exception) });
    }
    if (res.headersSent) return;
    if (!http.getRequest<Request>().complete) res.setHeader('Connection', 'close');
    res.status(status).json(body);
  }
}

function causeOf(exception: unknown): string | undefined {
  const cause = (exception as { cause?: unknown })?.cause;
  return cause instanceof Error ? cause.message : undefined;
}
