import { HttpStatus } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { ApiError, ApiErrorCode } from './api.error';
import { toApiErrorResponse } from './api-error.mapper';
import { MAX_JSON_BODY_BYTES, MAX_JSON_DEPTH, TOO_DEEP_ERROR_TYPE } from './json-body.limits';
import { keepRawBody } from './raw-body';

const [QUOTE, BACKSLASH, OPEN_ARRAY, CLOSE_ARRAY, OPEN_OBJECT, CLOSE_OBJECT] = [0x22, 0x5c, 0x5b, 0x5d, 0x7b, 0x7d];

/**
 * The frontend's only body parser (the app-wide defaults are off, see libs/runtime): JSON up to
 * MAX_JSON_BODY_BYTES and MAX_JSON_DEPTH. The web UI posts no forms, so no urlencoded parser
 * exists to bound. Bodies over the limit are refused as soon as that is known (boundBodySize).
 */
export function useJsonBodyParser(app: NestExpressApplication): void {
  app.use(boundBodySize);
  // Nest's typing leaves out body-parser's `verify` because `rawBody: true` would replace it;
  // rawBody stays off, Nest passes the option through, and api-input.int-spec.ts fails if the
  // depth check ever stops running.
  const options = { limit: MAX_JSON_BODY_BYTES, verify: verifyJsonBody };
  app.useBodyParser('json', options);
}

/**
 * body-parser refuses an oversized body only after reading all of it ("read off entire
 * request"), so a client that declares 100 MB, or streams chunks without end, would hold its
 * connection until the request timeout. Here a declared length over the limit is refused
 * before a byte is read, and a chunked body as soon as it passes the limit, whatever the
 * content type; both answers close the connection (ApiExceptionFilter, or here directly).
 */
function boundBodySize(req: Request, res: Response, next: NextFunction): void {
  const declared = Number(req.headers['content-length']);
  if (req.headers['content-length'] !== undefined && declared > MAX_JSON_BODY_BYTES) {
    next(tooLarge(`it declares ${declared}`));
    return;
  }
  next();
  // Counted after next() has returned, so that the parser's own listener is attached first
  // and sees every byte.
  if (req.headers['transfer-encoding'] === undefined || req.complete) return;
  let received = 0;
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received <= MAX_JSON_BODY_BYTES) return;
    req.off('data', count);
    if (res.headersSent) return;
    // body-parser's own error arrives once the socket is gone; the filter then sees headersSent.
    const { status, body } = toApiErrorResponse(tooLarge('it is sent in chunks'));
    res.setHeader('Connection', 'close');
    res.status(status).json(body);
  };
  req.on('data', count);
}

function tooLarge(detail: string): ApiError {
  return new ApiError(
    HttpStatus.PAYLOAD_TOO_LARGE,
    ApiErrorCode.PayloadTooLarge,
    `The request body is larger than ${MAX_JSON_BODY_BYTES} bytes (${detail}); send fewer URLs per request`,
  );
}

/**
 * Runs on the raw bytes after they are read and before JSON.parse, so a body nested 20,000
 * levels deep is refused without being parsed. Errors carry a status and a `type`, which
 * body-parser keeps.
 */
function verifyJsonBody(req: Request, _res: Response, body: Buffer, encoding: string): void {
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
  keepRawBody(req, body);
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
