import { HttpStatus, Injectable } from '@nestjs/common';
import { RefChangeRepository, type SnapshotLink } from '@archiver/database';
import { composeRefChanges, type RefChange, summarizeRefChanges } from '@archiver/git';
import { ApiError } from '../api/api.error';
import { RefChangesView, toRefChangeView } from './ref-changes.view';

export const RefChangeErrorCode = {
  InvalidRange: 'INVALID_RANGE',
  ChangesUnavailable: 'CHANGES_UNAVAILABLE',
} as const;

/**
 * The ref changes between two snapshots of a repository. Each completed visit recorded its
 * changes against the completed visit before it (a chain); the net change over a range is the
 * composition of the links from `to` back to `from`, so no snapshot's content is read.
 */
@Injectable()
export class RefChangesService {
  constructor(private readonly refChanges: RefChangeRepository) {}

  /** Defaults: `to` the newest snapshot that changed something, `from` the snapshot before it. */
  async between(repositoryId: string, fromId: string | undefined, toId: string | undefined): Promise<RefChangesView> {
    const snapshots = await this.refChanges.listSnapshots(repositoryId);
    const byId = new Map(snapshots.map((s) => [s.id, s]));
    const pick = (id: string, which: 'from' | 'to'): SnapshotLink => {
      const found = byId.get(id);
      if (!found)
        throw invalidRange(
          `${which}=${id} is not a completed visit of repository ${repositoryId}; pick one from GET /api/repositories/${repositoryId}`,
        );
      return found;
    };
    const to = toId ? pick(toId, 'to') : (snapshots.find((s) => total(s) > 0) ?? snapshots[0]);
    if (!to) return { repositoryId, from: null, to: null, summary: summarizeRefChanges([]), changes: [] };
    const from = fromId ? pick(fromId, 'from') : to.changesSinceId ? byId.get(to.changesSinceId) : undefined;
    if (from && (from.id === to.id || from.finishedAt >= to.finishedAt)) {
      throw invalidRange(
        `from must be a snapshot older than to (from ${from.id} finished ${from.finishedAt.toISOString()}, to ${to.id} finished ${to.finishedAt.toISOString()})`,
      );
    }
    const chain = this.chain(to, from, byId, snapshots.length);
    // Every link, also those that count no change: one folded from deleted visits may hold a
    // branch that moved away and back, which still makes the range not only fast-forwarded.
    const stored = await this.refChanges.findChanges(chain.map((link) => link.id));
    const steps = [...chain].reverse().map((link): RefChange[] => stored.filter((change) => change.archiveId === link.id));
    const changes = composeRefChanges(steps);
    return {
      repositoryId,
      from: from ? point(from) : null,
      to: point(to),
      summary: summarizeRefChanges(changes),
      changes: changes.map(toRefChangeView),
    };
  }

  /** The visits from `to` back to just after `from` (to the first snapshot when `from` is undefined). */
  private chain(to: SnapshotLink, from: SnapshotLink | undefined, byId: Map<string, SnapshotLink>, bound: number): SnapshotLink[] {
    const chain: SnapshotLink[] = [];
    let link: SnapshotLink | undefined = to;
    while (link && link.id !== from?.id && chain.length <= bound) {
      if (link.changeSummary === null)
        throw unavailable(`visit ${link.id} (${link.finishedAt.toISOString()}) was completed before ref changes were recorded`);
      chain.push(link);
      if (link.changesSinceId === null) {
        if (from) throw unavailable(`snapshot ${from.id} is not an ancestor of snapshot ${to.id} in the visit history`);
        return chain;
      }
      const since = link.changesSinceId;
      link = byId.get(since);
      if (!link) throw unavailable(`snapshot ${since}, between the two, has been deleted`);
    }
    return chain;
  }
}

function total(link: SnapshotLink): number {
  return Object.values(link.changeSummary ?? {}).reduce((sum, n) => sum + n, 0);
}

function point(link: SnapshotLink): { id: string; finishedAt: string } {
  return { id: link.id, finishedAt: link.finishedAt.toISOString() };
}

function invalidRange(message: string): ApiError {
  return new ApiError(HttpStatus.BAD_REQUEST, RefChangeErrorCode.InvalidRange, message);
}

function unavailable(why: string): ApiError {
  return new ApiError(
    HttpStatus.CONFLICT,
    RefChangeErrorCode.ChangesUnavailable,
    `The ref changes over this range are not known: ${why}. Pick a range of later snapshots.`,
  );
}
