import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { PrismaService } from '@archiver/database';
import type { ObjectStoreRepository } from '@archiver/storage';
import { createFixtureRepos, type FixtureRepos } from '../git/fixture-repos.fixture';
import { type GitHttpServerHandle, startGitHttpServer } from '../git/git-http.server';
import type { KeycloakTestClient } from '../keycloak/keycloak-test.client';
import { ApiClient } from './api-client';
import { type AppProcess, startApp } from './app-process';
import { tearDown } from '../support/tear-down';
import { removeRepositoriesUnder, waitUntilNoConsumer } from './archive-cleanup';

export interface FrontendOnly {
  /** Scratch directory holding the fixture repositories; the suite removes it. */
  workDir: string;
  repos: FixtureRepos;
  /** Serves `repos` on loopback; every URL it hands out names its own port, so rows under it are the suite's. */
  git: GitHttpServerHandle;
  frontend: AppProcess;
  /** The frontend's API without a default token: each call names its user's token. */
  client: ApiClient;
}

/**
 * The REST API suites' stage: the real frontend alone, so that nothing consumes "pending" and a
 * test sees exactly the states the frontend leaves, and fixture repositories on loopback. What
 * was started is stopped again when a later step fails.
 */
export async function startFrontendOnly(pendingQueue: Queue, label: string): Promise<FrontendOnly> {
  await waitUntilNoConsumer(pendingQueue);
  const workDir = await mkdtemp(path.join(tmpdir(), `archiver-${label}-`));
  let git: GitHttpServerHandle | undefined;
  try {
    const repos = await createFixtureRepos(workDir);
    git = await startGitHttpServer({ root: repos.root });
    const frontend = await startApp('frontend');
    return { workDir, repos, git, frontend, client: new ApiClient(frontend.url) };
  } catch (error) {
    await git?.stop();
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
}

/** The clients an API suite opens beside the stage, closed with it. */
export interface FrontendOnlyClients {
  prisma: PrismaService;
  store: ObjectStoreRepository;
  pendingQueue: Queue;
  keycloak: KeycloakTestClient;
}

/**
 * Ends the stage: the frontend first, then every archive and repository row under the suite's
 * git server (its port makes them the suite's own), then the server, the suite's clients
 * (Keycloak's test users removed) and the work directory, whatever failed before.
 */
export async function stopFrontendOnly(stage: FrontendOnly | undefined, clients: FrontendOnlyClients): Promise<void> {
  const { prisma, store, pendingQueue, keycloak } = clients;
  await tearDown({
    apps: [stage?.frontend],
    cleanUp: async () => stage && removeRepositoriesUnder(`${stage.git.baseUrl}/`, { prisma, store, queues: [pendingQueue] }),
    close: [() => stage?.git.stop(), () => store.close(), () => keycloak.cleanup(), () => pendingQueue.close(), () => prisma.$disconnect()],
    dirs: [stage?.workDir],
  });
}
