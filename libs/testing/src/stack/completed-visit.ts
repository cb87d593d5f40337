import type { ArchiveRecord, ArchiveRepository } from '@archiver/database';
import { type ApiClient, type ArchiveView, settledArchive } from './api-client';

/**
 * Submits `url` and waits for its archive to settle; anything but a clean completion throws,
 * naming the outcome, because the tests that use it are about what a completed visit stored.
 */
export async function completedArchive(api: ApiClient, url: string, timeoutMs?: number): Promise<ArchiveView> {
  const done = await settledArchive(api, (await api.submit(url)).id, timeoutMs);
  if (done.status !== 'completed' || done.error !== null) {
    throw new Error(`archive ${done.id} of ${url} ended ${done.status}, not cleanly completed: ${JSON.stringify(done.error)}`);
  }
  return done;
}

/** `completedArchive` and its row: bucket, prefix, outcome and refs hash as the database holds them. */
export async function completedVisit(
  api: ApiClient,
  archives: ArchiveRepository,
  url: string,
  timeoutMs?: number,
): Promise<{ view: ArchiveView; row: ArchiveRecord }> {
  const view = await completedArchive(api, url, timeoutMs);
  const row = await archives.findById(view.id);
  if (!row) throw new Error(`archive ${view.id} completed through the API but has no row`);
  return { view, row };
}
