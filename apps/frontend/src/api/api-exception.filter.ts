import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { DatabaseError, DatabaseErrorCode } from '@archiver/database';
import { QueueError } from '@archiver/queue';

export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/**
 * Every error leaves the API as `{"error": {"code", "message"}}` with a status that fits:
 * HTTP exceptions keep theirs, the libs' coded errors are mapped here, and anything
 * unexpected is logged and answered with a 500 that leaks no internals.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Api');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.toResponse(exception);
    if (status >= 500) this.logger.error({ msg: 'request failed', code: body.error.code, error: (exception as Error)?.message });
    res.status(status).json(body);
  }

  private toResponse(exception: unknown): [number, ApiErrorBody] {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'object' && response !== null && 'error' in response && typeof response.error === 'object') {
        return [status, response as ApiErrorBody];
      }
      const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? exception.message);
      return [status, { error: { code: codeFor(status), message: Array.isArray(message) ? message.join('; ') : String(message) } }];
    }
    if (exception instanceof DatabaseError) {
      const status =
        exception.code === DatabaseErrorCode.NotFound
          ? HttpStatus.NOT_FOUND
          : exception.code === DatabaseErrorCode.Conflict
            ? HttpStatus.CONFLICT
            : HttpStatus.SERVICE_UNAVAILABLE;
      return [status, { error: { code: exception.code, message: exception.message } }];
    }
    if (exception instanceof QueueError) {
      return [HttpStatus.SERVICE_UNAVAILABLE, { error: { code: exception.code, message: 'The queue is unavailable; try again shortly' } }];
    }
    return [HttpStatus.INTERNAL_SERVER_ERROR, { error: { code: 'INTERNAL', message: 'Something went wrong on our side; it has been logged' } }];
  }
}

function codeFor(status: number): string {
  return (
    {
      400: 'BAD_REQUEST',
      401: 'UNAUTHENTICATED',
      403: 'FORBIDDEN',
      404: 'NOT_FOUND',
      409: 'CONFLICT',
      413: 'PAYLOAD_TOO_LARGE',
      415: 'UNSUPPORTED_MEDIA_TYPE',
      429: 'TOO_MANY_REQUESTS',
    }[status] ?? (status >= 500 ? 'INTERNAL' : 'ERROR')
  );
}
