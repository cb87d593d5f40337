export * from './log-context';
export { CALLER_FIELDS_KEY, type LogFields, RESERVED_LOG_KEYS, withoutReservedKeys } from './log-fields';
export { httpLoggerOptions, loggerOptions, type LogLevel } from './logger-options';
export * from './logging.module';
export { acceptRequestId, REQUEST_ID_HEADER } from './request-id';
export * from './startup-failure';
