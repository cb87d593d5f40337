import type { Request } from 'express';

const rawBodies = new WeakMap<Request, Buffer>();

/**
 * The exact bytes of a JSON body, kept by the JSON parser for routes that verify a signature
 * over them (push webhooks): re-serialising the parsed value would not give the same bytes.
 */
export function keepRawBody(req: Request, body: Buffer): void {
  rawBodies.set(req, body);
}

/** Undefined when the request had no JSON body the parser read. */
export function rawBodyOf(req: Request): Buffer | undefined {
  return rawBodies.get(req);
}
