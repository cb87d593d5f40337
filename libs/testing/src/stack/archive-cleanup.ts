import type { Queue } from 'bullmq';
import type { PrismaService } from '@archiver/database';
import type { ObjectStoreRepository } from '@archiver/storage';
import { waitFor } from '../support/wait-for';

/**
 * For tests that assert the states the frontend leaves archives in: no injector may consume
 * the stack's queue meanwhile. Waits for another test file's injector to go rather than
 * failing obscurely (integration files run one at a time).
 */
export async function waitUntilNoConsumer(queue: Queue): Promise<void> {
  await waitFor(
    `no process consuming queue "${queue.name}" of the test stack (run integration files one at a time)`,
    async () => ((await queue.getWorkersCount()) === 0 ? true : undefined),
    60_000,
    500,
  );
}

export interface ArchiveCleanupDeps {
  prisma: PrismaService;
  store: ObjectStoreRepository;
  /** Queues that may still hold a job of these archives (job id = archive id). */
  queues: Queue[];
}

/**
 * Removes every archive whose normalized URL starts with `urlPrefix` (a test's own fixture
 * server, so only its own rows): jobs first so no injector picks them up, then rows, then
 * snapshot objects and the buckets they leave empty. Returns how many archives it removed.
 */
export async function removeArchivesUnder(urlPrefix: string, { prisma, store, queues }: ArchiveCleanupDeps): Promise<number> {
  const mine = await prisma.archive.findMany({ where: { normalizedUrl: { startsWith: urlPrefix } } });
  await Promise.all(mine.flatMap((archive) => queues.map((queue) => queue.remove(archive.id).catch(() => 0))));
  await prisma.archive.deleteMany({ where: { id: { in: mine.map((archive) => archive.id) } } });
  for (const bucket of new Set(mine.map((archive) => archive.bucket).filter((b): b is string => b !== null))) {
    if (!(await store.bucketExists(bucket))) continue;
    // Snapshots, the blobs they share and the latest/ view (issue 11).
    for (const folder of ['snapshots/', 'objects/', 'latest/']) await store.removePrefix(bucket, folder);
    await store.removeBucketIfEmpty(bucket);
  }
  return mine.length;
}

/** `removeArchivesUnder`, then the repository rows under `urlPrefix`, for suites that track repositories too. */
export async function removeRepositoriesUnder(urlPrefix: string, deps: ArchiveCleanupDeps): Promise<void> {
  await removeArchivesUnder(urlPrefix, deps);
  await deps.prisma.repository.deleteMany({ where: { normalizedUrl: { startsWith: urlPrefix } } });
}
