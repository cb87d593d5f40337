import { rm } from 'node:fs/promises';
import type { AppProcess } from '../stack/app-process';
import { closeAll } from './close-all';

export interface SuiteResources {
  /** Stopped first: they hold the connections, rows and files the rest releases. */
  apps?: Array<AppProcess | undefined>;
  /** Runs once the apps are stopped and before anything is closed (e.g. removing the suite's rows). */
  cleanUp?: () => Promise<unknown>;
  /** Closed last, every one even when another fails (clients, fixture servers). */
  close?: Array<() => unknown>;
  /** Removed last (scratch and work directories); undefined when setup never made them. */
  dirs?: Array<string | undefined>;
}

/**
 * The end of a suite on the real stack: apps first, then the suite's own rows, then every
 * client, server and directory, whatever failed before, so one failure never leaves a handle
 * open (Jest would not exit) or a directory behind. Throws the first failure.
 */
export async function tearDown(resources: SuiteResources): Promise<void> {
  const stopping = (async () => {
    await Promise.all((resources.apps ?? []).map((app) => app?.stop()));
    await resources.cleanUp?.();
  })();
  const [stopped] = await Promise.allSettled([stopping]);
  const closed = await Promise.allSettled([
    closeAll(
      ...(resources.close ?? []).map((close) => Promise.resolve().then(close)),
      ...(resources.dirs ?? []).map((dir) => (dir ? rm(dir, { recursive: true, force: true }) : undefined)),
    ),
  ]);
  const failure = [stopped, ...closed].find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}
