/**
 * A repository's retention policy: keep the last `keepLast` snapshots, plus the newest snapshot
 * of each of the last `keepDaily` days, `keepWeekly` ISO weeks and `keepMonthly` months that
 * have snapshots (UTC), like restic's `--keep-last/--keep-daily/--keep-weekly/--keep-monthly`.
 * Null, or every count 0: keep everything.
 */
export interface RetentionPolicy {
  keepLast: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
}

/** A completed visit as retention sees it. */
export interface RetentionCandidate {
  id: string;
  finishedAt: Date;
  outcome: 'changed' | 'unchanged';
  /** An unchanged visit: the changed snapshot holding its content. */
  contentFrom: string | null;
}

export interface RetentionSelection {
  /** Newest first; each with why it stays (`last`, `daily 2026-11-29`, `newest`, `content of kept <id>`...). */
  keep: { id: string; reasons: string[] }[];
  /** Newest first. */
  prune: { id: string }[];
}

export function isKeepEverything(policy: RetentionPolicy | null): boolean {
  return !policy || (policy.keepLast <= 0 && policy.keepDaily <= 0 && policy.keepWeekly <= 0 && policy.keepMonthly <= 0);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

export function utcDay(at: Date): string {
  return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
}

export function utcMonth(at: Date): string {
  return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}`;
}

/** ISO 8601 week (`2026-W48`): weeks start on Monday, and week 1 holds the year's first Thursday. */
export function isoWeek(at: Date): string {
  const day = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  // The Thursday of this week decides the week's year.
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${pad(week)}`;
}

interface Rule {
  remaining: number;
  last: string | null;
  bucket: (candidate: RetentionCandidate, index: number) => string;
  reason: (bucket: string) => string;
}

/**
 * Which snapshots a policy keeps. Walking newest first, each rule keeps a snapshot when it
 * opens a period the rule has not seen yet and the rule has periods left: so the newest
 * snapshot of each period stays, and periods without snapshots do not count (restic's rules).
 * The newest snapshot always stays (the next visit builds on it, `latest/` shows it), and a
 * kept unchanged visit keeps the changed snapshot holding its content.
 */
export function selectRetention(candidates: readonly RetentionCandidate[], policy: RetentionPolicy | null): RetentionSelection {
  const ordered = [...candidates].sort((a, b) => b.finishedAt.getTime() - a.finishedAt.getTime() || (a.id < b.id ? 1 : -1));
  const reasons = new Map<string, string[]>(ordered.map((c) => [c.id, []]));
  if (isKeepEverything(policy)) {
    for (const c of ordered) reasons.get(c.id)!.push('everything');
  } else {
    const rules: Rule[] = [
      { remaining: policy!.keepLast, last: null, bucket: (_c, i) => String(i), reason: () => 'last' },
      { remaining: policy!.keepDaily, last: null, bucket: (c) => utcDay(c.finishedAt), reason: (b) => `daily ${b}` },
      { remaining: policy!.keepWeekly, last: null, bucket: (c) => isoWeek(c.finishedAt), reason: (b) => `weekly ${b}` },
      { remaining: policy!.keepMonthly, last: null, bucket: (c) => utcMonth(c.finishedAt), reason: (b) => `monthly ${b}` },
    ];
    for (const [index, candidate] of ordered.entries()) {
      for (const rule of rules) {
        const bucket = rule.bucket(candidate, index);
        if (rule.remaining <= 0 || bucket === rule.last) continue;
        rule.last = bucket;
        rule.remaining--;
        reasons.get(candidate.id)!.push(rule.reason(bucket));
      }
    }
    if (ordered[0]) reasons.get(ordered[0].id)!.push('newest');
  }
  const byId = new Map(ordered.map((c) => [c.id, c]));
  for (const candidate of ordered) {
    const content = candidate.contentFrom;
    if (reasons.get(candidate.id)!.length > 0 && content && byId.has(content)) {
      reasons.get(content)!.push(`content of kept ${candidate.id}`);
    }
  }
  return {
    keep: ordered.filter((c) => reasons.get(c.id)!.length > 0).map((c) => ({ id: c.id, reasons: reasons.get(c.id)! })),
    prune: ordered.filter((c) => reasons.get(c.id)!.length === 0).map((c) => ({ id: c.id })),
  };
}
