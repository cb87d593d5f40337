import { HttpStatus } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { ApiError, ApiErrorCode } from './api.error';

/** Comfortably above a batch of 100 URLs of ordinary length. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/**
 * The API's bodies nest two levels (`{"urls": [...]}`); eight leaves room to grow while
 * keeping anything that walks the parsed value recursively far from the stack's limit.
 */
export const MAX_JSON_DEPTH = 8;

/** body-parser's `type` for a body refused by the depth check; api-error.mapper.ts explains it. */
export const TOO_DEEP_ERROR_TYPE = 'entity.too.deep';

const [QUOTE, BACKSLASH, OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = [0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d];

/**
 * The frontend's only body parser (the app-wide defaults are off, see libs/runtime): JSON up to
 * MAX_JSON_BODY_BYTES and MAX_JSON_DEPTH. The web UI posts no forms, so no urlencoded parser
 * exists to bound. A declared length over the limit is refused before a byte of the body is
 * read, whatever the content type; ApiExceptionFilter then closes the connection.
 */
export function useJsonBodyParser(app: NestExpressApplication): void {
  app.use(refuseDeclaredOversize);
  // Nest's typing leaves out body-parser's `verify` because `rawBody: true` would replace it;
  // rawBody stays off, Nest passes the option through, and api-input.int-spec.ts fails if the
  // depth check ever stops running.
  const options = { limit: MAX_JSON_BODY_BYTES, verify: verifyJsonBody };
  app.useBodyParser('json', options);
}

function refuseDeclaredOversize(req: Request, _res: Response, next: NextFunction): void {
  const declared = Number(req.headers['content-length']);
  if (req.headers['content-length'] !== undefined && declared > MAX_JSON_BODY_BYTES) {
    next(
      new ApiError(
        HttpStatus.PAYLOAD_TOO_LARGE,
        ApiErrorCode.PayloadTooLarge,
        `The request body is larger than ${MAX_JSON_BODY_BYTES} bytes (it declares ${declared}); send fewer URLs per request`,
      ),
    );
    return;
  }
  next();
}

/**
 * Runs on the raw bytes after they are read and before JSON.parse, so a body nested 20,000
 * levels deep is refused without being parsed. Errors carry a status and a `type`, which
 * body-parser keeps.
 */
function verifyJsonBody(_req: Request, _res: Response, body: Buffer, encoding: string): void {
  // RFC 8259 §8.1: JSON between systems is UTF-8; the scan below relies on it.
  if (!/^utf-?8$/i.test(encoding)) {
    throw Object.assign(new Error(`unsupported charset "${encoding.toUpperCase()}"`), { status: 415, type: 'charset.unsupported' });
  }
  if (jsonNestingExceeds(body, MAX_JSON_DEPTH)) {
    throw Object.assign(new Error(`The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep`), {
      status: 400,
      type: TOO_DEEP_ERROR_TYPE,
    });
  }
}

/**
 * Whether arrays and objects in UTF-8 JSON text nest deeper than `maxDepth`, counting only
 * brackets outside strings (in UTF-8 no byte of a multi-byte character is ASCII). Malformed
 * text is left for JSON.parse to refuse.
 */
export function jsonNestingExceeds(text: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (const byte of text) {
    if (inString) {
      if (escaped) escaped = false;
      else if (byte === BACKSLASH) escaped = true;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) {
      depth -= 1;
    }
  }
  return false;
}
