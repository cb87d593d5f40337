/**
 * Keys every log line owns (`reqId` is bound to the lines of an HTTP request). pino writes
 * them first and a caller's fields after them, and a JSON reader keeps the last of two equal
 * keys: a call like `log({ level: 'x', time: 0 })`, or a request field that ends up in a log
 * object, would silently replace them.
 */
export const RESERVED_LOG_KEYS = ['level', 'time', 'app', 'reqId'] as const;

/** Where a caller's values for reserved keys go instead, so nothing is lost. */
export const CALLER_FIELDS_KEY = 'callerFields';

export type LogFields = Record<string, unknown>;

/** `fields` without the reserved keys; their values, if any, moved under `callerFields`. */
export function withoutReservedKeys(fields: LogFields): LogFields {
  let moved: LogFields | undefined;
  for (const key of RESERVED_LOG_KEYS) if (Object.hasOwn(fields, key)) (moved ??= {})[key] = fields[key];
  if (!moved) return fields;
  const kept: LogFields = { ...fields };
  for (const key of RESERVED_LOG_KEYS) delete kept[key];
  return { ...kept, [CALLER_FIELDS_KEY]: moved };
}
