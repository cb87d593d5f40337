export * from './git.error';
export type { GitRuntimeOptions } from './git-process';
export * from './url-policy';
export * from './safe-clone';
export * from './repository-reader';
export { killProcessesUnder } from './process-reaper';
export { DEFAULT_MAX_ADVERTISEMENT_BYTES } from './redirect-preflight';
export * from './git.module';
