export * from './git.error';
export type { GitRuntimeOptions } from './git-process';
export * from './url-policy';
export * from './safe-clone';
export * from './repository-reader';
