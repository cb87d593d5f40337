/** Comfortably above a batch of 100 URLs of ordinary length. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/**
 * The API's bodies nest two levels (`{"urls": [...]}`); eight leaves room to grow while
 * keeping anything that walks the parsed value recursively far from the stack's limit.
 */
export const MAX_JSON_DEPTH = 8;

/** body-parser's `type` for a body refused by the depth check; api-error.mapper.ts explains it. */
export const TOO_DEEP_ERROR_TYPE = 'entity.too.deep';
