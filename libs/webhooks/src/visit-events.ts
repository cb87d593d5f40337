import type { DerivedEvent } from './webhook-events';

/** A ref change as recorded with a completed visit (libs/database StoredRefChange). */
export interface VisitRefChange {
  nameBytes: Buffer;
  kind: 'created' | 'deleted' | 'fast_forward' | 'non_fast_forward' | 'tag_moved';
  oldSha: string | null;
  newSha: string | null;
}

/** Everything the events of one settled visit are derived from. */
export interface SettledVisit {
  result: { kind: 'completed'; outcome: string } | { kind: 'failed'; code: string; message: string };
  /** The repository after the outcome was recorded; null when that could not be read. */
  repository: { state: string; stateReason: string | null } | null;
  /** The settled visit before this one, or null for the first. */
  previous: { status: 'completed' | 'failed'; errorCode: string | null } | null;
  /** This visit's recorded ref changes (none for a failed visit). */
  refChanges: readonly VisitRefChange[];
}

const BRANCH_PREFIX = 'refs/heads/';

/**
 * The events a settled visit gives rise to, in the order they happened.
 *
 * `repository.disabled` is read off the repository after the outcome: a failed visit that left
 * it disabled disabled it (a disabled repository gets no scheduled visits, and asking for one
 * re-enables it first).
 */
export function deriveVisitEvents(visit: SettledVisit): DerivedEvent[] {
  const { result } = visit;
  if (result.kind === 'failed') {
    const events: DerivedEvent[] = [{ event: 'visit.failed', details: { code: result.code, message: result.message } }];
    if (visit.repository?.state === 'disabled') {
      events.push({ event: 'repository.disabled', details: { reason: visit.repository.stateReason, code: result.code } });
    }
    return events;
  }
  const events: DerivedEvent[] = [];
  if (visit.previous?.status === 'failed') {
    events.push({ event: 'repository.recovered', details: { outcome: result.outcome, previousErrorCode: visit.previous.errorCode } });
  }
  const forced = visit.refChanges.filter((change) => change.kind === 'non_fast_forward');
  if (forced.length > 0) {
    events.push({
      event: 'refs.force_pushed',
      details: { refs: forced.map((change) => ({ name: refName(change.nameBytes), oldSha: change.oldSha, newSha: change.newSha })) },
    });
  }
  const deleted = visit.refChanges.filter(
    (change) => change.kind === 'deleted' && change.nameBytes.subarray(0, 11).toString('latin1') === BRANCH_PREFIX,
  );
  if (deleted.length > 0) {
    events.push({
      event: 'refs.branch_deleted',
      details: { refs: deleted.map((change) => ({ name: refName(change.nameBytes), oldSha: change.oldSha })) },
    });
  }
  return events;
}

/** Ref names are bytes: UTF-8 ones as text, others as `base64:<…>` so no name is mangled. */
export function refName(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : `base64:${bytes.toString('base64')}`;
}
