import { HttpStatus, Injectable } from '@nestjs/common';
import type { AuthUser } from '@archiver/auth';
import { RetentionRepository, retentionPolicyOf, TrackedRepositoryRepository } from '@archiver/database';
import { QueueName, QueueRepository } from '@archiver/queue';
import { isKeepEverything, loadRetentionInputs, ObjectStoreRepository, planRetention, type RetentionPolicy } from '@archiver/storage';
import { ApiError } from '../api/api.error';
import { repositoryNotFound } from './repository-id.pipe';
import { RepositoriesService } from './repositories.service';
import type { RetentionPolicyBody } from './retention.dto';
import { PruneJobView, RetentionPreviewView, RetentionView, toRetentionPreviewView, toRetentionView } from './retention.view';

/** Codes this API adds (never rename: clients match on them). */
export const RetentionErrorCode = { NoPolicy: 'NO_RETENTION_POLICY' } as const;

/**
 * A repository's retention policy, its dry run and on-demand prunes. The dry run plans with the
 * same function the worker's prune applies (libs/storage planRetention), from the same facts.
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly repositories: RepositoriesService,
    private readonly records: TrackedRepositoryRepository,
    private readonly retention: RetentionRepository,
    private readonly store: ObjectStoreRepository,
    private readonly queues: QueueRepository,
  ) {}

  /** Admins only (the route's role): a prune deletes history every tracker sees. */
  async setPolicy(id: string, body: RetentionPolicyBody): Promise<RetentionView> {
    const policy = {
      keepLast: body.keepLast ?? 0,
      keepDaily: body.keepDaily ?? 0,
      keepWeekly: body.keepWeekly ?? 0,
      keepMonthly: body.keepMonthly ?? 0,
    };
    if (!(await this.retention.setPolicy(id, isKeepEverything(policy) ? null : policy))) throw repositoryNotFound(id);
    const repository = await this.records.findById(id);
    if (!repository) throw repositoryNotFound(id);
    return toRetentionView(repository);
  }

  /** The dry run of the stored policy, or of `candidate` when it gives any count (to try one before setting it). */
  async preview(id: string, user: AuthUser, candidate: Partial<RetentionPolicy> = {}): Promise<RetentionPreviewView> {
    const repository = await this.repositories.findVisible(id, user);
    const given = Object.values(candidate).some((n) => n !== undefined);
    const asked = { keepLast: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, ...stripUndefined(candidate) };
    const policy = given ? (isKeepEverything(asked) ? null : asked) : retentionPolicyOf(repository);
    const records = await this.retention.completedSnapshots(id);
    const inputs = await loadRetentionInputs(
      this.store,
      records.map((r) => ({ id: r.id, finishedAt: r.finishedAt ?? r.createdAt, bucket: r.bucket!, prefix: r.prefix! })),
    );
    return toRetentionPreviewView(policy, planRetention(inputs, policy));
  }

  /** Queues a prune now (admins); the worker waits for running visits of the repository first. */
  async prune(id: string): Promise<PruneJobView> {
    const repository = await this.records.findById(id);
    if (!repository) throw repositoryNotFound(id);
    if (!retentionPolicyOf(repository)) {
      throw new ApiError(
        HttpStatus.CONFLICT,
        RetentionErrorCode.NoPolicy,
        `Repository ${id} keeps every snapshot; set a policy with PUT /api/repositories/${id}/retention first`,
      );
    }
    await this.queues.ensureJob(QueueName.Prune, { repositoryId: id });
    return { repositoryId: id, state: await this.queues.jobState(QueueName.Prune, id) };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
