import type { ArchiveOutcome } from './archive.types';

/** Bounds and limits of the adaptive visit interval (libs/config `schedule`). */
export interface VisitSchedulePolicy {
  minIntervalSeconds: number;
  maxIntervalSeconds: number;
  /** Permanent failures in a row that disable a repository. */
  disableAfterFailures: number;
}

/** How a visit ended, as the worker reports it. */
export type VisitResult = { kind: 'completed'; outcome: ArchiveOutcome } | { kind: 'failed'; code: string; message: string };

/**
 * Failures that will not go away by waiting: the repository is gone, private, or its URL is
 * (now) refused. Everything else (network, timeouts, size, damaged packs) may heal, so it
 * only backs off and never disables.
 */
export const PERMANENT_VISIT_FAILURES: ReadonlySet<string> = new Set([
  'NOT_FOUND',
  'AUTH_REQUIRED',
  'BLOCKED_BY_POLICY',
  'INVALID_URL',
  'REDIRECT_BLOCKED',
  // The pinned key will not match by itself: a person must accept the new key (or find the intruder).
  'HOST_KEY_CHANGED',
]);

/** The scheduling fields of a repository a visit outcome reads. */
export interface VisitScheduleState {
  intervalSeconds: number;
  pinnedIntervalSeconds: number | null;
  consecutiveFailures: number;
}

/** What a visit outcome changes on its repository. */
export interface VisitScheduleUpdate {
  intervalSeconds: number;
  consecutiveFailures: number;
  /** Seconds until the next visit, jitter included. */
  delaySeconds: number;
  success: boolean;
  changed: boolean;
  /** Set when the repository must be disabled: the reason people see. */
  disableReason: string | null;
}

const JITTER = 0.1;

/**
 * Software Heritage's adaptive policy: a visit that found changes halves the interval, one that
 * found none doubles it, within the bounds; a pinned interval overrides it. Failures back off
 * exponentially from the minimum. `permanentStreak` is how many permanent failures in a row
 * this one ends (itself included), `random` a number in [0, 1) for ±10% jitter, which keeps
 * repositories tracked at the same moment from being visited in lockstep forever.
 */
export function planNextVisit(
  state: VisitScheduleState,
  result: VisitResult,
  policy: VisitSchedulePolicy,
  permanentStreak: number,
  random: number,
): VisitScheduleUpdate {
  const clamp = (seconds: number) => Math.min(policy.maxIntervalSeconds, Math.max(policy.minIntervalSeconds, Math.round(seconds)));
  const jittered = (seconds: number) => Math.max(1, Math.round(seconds * (1 - JITTER + 2 * JITTER * random)));
  if (result.kind === 'completed') {
    const changed = result.outcome === 'changed';
    const intervalSeconds = clamp(changed ? state.intervalSeconds / 2 : state.intervalSeconds * 2);
    const effective = state.pinnedIntervalSeconds ?? intervalSeconds;
    return { intervalSeconds, consecutiveFailures: 0, delaySeconds: jittered(effective), success: true, changed, disableReason: null };
  }
  const consecutiveFailures = state.consecutiveFailures + 1;
  // 2 ** n overflows to Infinity long after it passes any maximum; min() keeps it finite.
  const backoff = Math.min(policy.maxIntervalSeconds, policy.minIntervalSeconds * 2 ** Math.min(consecutiveFailures - 1, 64));
  const permanent = PERMANENT_VISIT_FAILURES.has(result.code);
  const disable = permanent && permanentStreak >= policy.disableAfterFailures;
  return {
    intervalSeconds: state.intervalSeconds,
    consecutiveFailures,
    delaySeconds: jittered(backoff),
    success: false,
    changed: false,
    disableReason: disable
      ? `Disabled after ${permanentStreak} visits in a row failed with ${result.code}: ${result.message}. Fix the cause, then resume tracking.`
      : null,
  };
}
