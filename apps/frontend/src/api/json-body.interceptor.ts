import { CallHandler, ExecutionContext, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { ApiError, ApiErrorCode } from './api.error';

/** Comfortably above 100 URLs of ordinary length; the app-wide parser's own cap is Express's 100 KiB. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The API takes JSON only. The app-wide body parser (registered by Nest before anything of
 * a module, and shared with the web UI's forms) leaves other content types unparsed or parses
 * them as forms, which would otherwise surface as a confusing "url is required"; this answers
 * 415 instead, and 413 above the API's own size limit. An interceptor rather than a middleware
 * so that it runs after the auth guard: a caller without a token hears 401 first.
 */
@Injectable()
export class JsonBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (METHODS_WITH_BODY.has(req.method) && hasBody(req)) check(req);
    return next.handle();
  }
}

function check(req: Request): void {
  if (!req.is(['application/json', 'application/*+json'])) {
    throw new ApiError(
      HttpStatus.UNSUPPORTED_MEDIA_TYPE,
      ApiErrorCode.UnsupportedMediaType,
      `The body must be JSON sent with "Content-Type: application/json" (got ${JSON.stringify(req.headers['content-type'] ?? 'none')})`,
    );
  }
  const size = bodySize(req);
  if (size > MAX_JSON_BODY_BYTES) {
    throw new ApiError(
      HttpStatus.PAYLOAD_TOO_LARGE,
      ApiErrorCode.PayloadTooLarge,
      `The request body is ${size} bytes; the limit is ${MAX_JSON_BODY_BYTES} bytes. Split the URLs over several requests`,
    );
  }
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

// A chunked body carries no length header; its parsed form is a close enough measure.
function bodySize(req: Request): number {
  const length = Number(req.headers['content-length']);
  if (req.headers['content-length'] !== undefined && Number.isFinite(length)) return length;
  return req.body === undefined ? 0 : Buffer.byteLength(JSON.stringify(req.body));
}
