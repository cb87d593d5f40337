import type { WorkerOptions } from 'bullmq';
import { loadConfig } from '@archiver/config';

/** What a consumer app tunes per queue, from libs/config. */
export interface ConsumerSettings {
  concurrency: number;
  /** A job stays claimed this long without a renewal; a dead worker's jobs move on after about this long. */
  lockMs: number;
}

/**
 * Worker options for `@Processor(name, workerOptions(...))`, read from libs/config through
 * getters: @nestjs/bullmq copies them (`{...options}`) when it creates the Worker at module
 * init — after bootstrap validated the configuration — not when the decorator runs at import.
 */
export function workerOptions(pick: (config: ReturnType<typeof loadConfig>) => ConsumerSettings): Omit<WorkerOptions, 'connection'> {
  return {
    get concurrency() {
      return pick(loadConfig()).concurrency;
    },
    get lockDuration() {
      return pick(loadConfig()).lockMs;
    },
    get stalledInterval() {
      return pick(loadConfig()).lockMs;
    },
    // A job stalls when its worker died or lost Redis; it is moved back to wait this many
    // times before BullMQ fails it — and the injector's reconciler re-queues it even then.
    maxStalledCount: 5,
  };
}
