import { CallHandler, ExecutionContext, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { ApiError, ApiErrorCode } from './api.error';

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The API takes JSON only. The JSON parser (json-body.parser.ts) leaves other content types
 * unread, which would otherwise surface as a confusing "url is required"; this answers 415
 * instead. Size and depth are the parser's business. An interceptor rather than a middleware
 * so that it runs after the auth guard: a caller without a token hears 401 first.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    // application/json exactly: the parser reads nothing else, so a `+json` type (merge-patch,
    // vnd.api) would reach validation as a missing body, with a message no one can act on.
    if (METHODS_WITH_BODY.has(req.method) && hasBody(req) && !req.is('application/json')) {
      throw new ApiError(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        ApiErrorCode.UnsupportedMediaType,
        `The body must be JSON sent with "Content-Type: application/json" (got ${JSON.stringify(req.headers['content-type'] ?? 'none')})`,
      );
    }
    return next.handle();
  }
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
