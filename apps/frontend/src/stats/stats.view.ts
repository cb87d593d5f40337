import { ApiProperty } from '@nestjs/swagger';
import type { ArchiveStats, StageStats } from '@archiver/database';

export class StatusCountsView {
  @ApiProperty() pending!: number;
  @ApiProperty() queued!: number;
  @ApiProperty() running!: number;
  @ApiProperty() completed!: number;
  @ApiProperty() failed!: number;
}

export class TotalsView {
  @ApiProperty({ description: 'Files stored by completed archives' })
  files!: number;

  @ApiProperty({ description: 'Bytes of those files' })
  bytes!: number;
}

export class StageStatsView {
  @ApiProperty({ type: Number, nullable: true, description: 'Mean over completed archives; null when there are none' })
  meanMs!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: '95th percentile over completed archives' })
  p95Ms!: number | null;
}

export class StagesView {
  @ApiProperty({ type: StageStatsView, description: 'createdAt → injectedAt' })
  wait!: StageStatsView;

  @ApiProperty({ type: StageStatsView, description: 'injectedAt → startedAt' })
  inject!: StageStatsView;

  @ApiProperty({ type: StageStatsView, description: 'startedAt → finishedAt' })
  run!: StageStatsView;

  @ApiProperty({ type: StageStatsView, description: 'createdAt → finishedAt' })
  total!: StageStatsView;
}

export class HourCountView {
  @ApiProperty({ type: String, format: 'date-time', description: 'Start of the hour (UTC)' })
  hour!: string;

  @ApiProperty({ description: 'Archives submitted in that hour' })
  count!: number;
}

export class StatsView {
  @ApiProperty({ type: StatusCountsView })
  counts!: StatusCountsView;

  @ApiProperty({ type: TotalsView })
  totals!: TotalsView;

  @ApiProperty({ type: StagesView })
  stages!: StagesView;

  @ApiProperty({ type: [HourCountView], description: 'Submissions per hour over the last 24 hours; hours without any are left out' })
  perHour!: HourCountView[];
}

export function toStatsView(stats: ArchiveStats): StatsView {
  const stage = (s: StageStats): StageStatsView => ({ meanMs: roundMs(s.meanMs), p95Ms: roundMs(s.p95Ms) });
  return {
    counts: { ...stats.counts },
    totals: { files: stats.totals.files, bytes: Number(stats.totals.bytes) },
    stages: {
      wait: stage(stats.stages.wait),
      inject: stage(stats.stages.inject),
      run: stage(stats.stages.run),
      total: stage(stats.stages.total),
    },
    perHour: stats.perHour.map(({ hour, count }) => ({ hour: hour.toISOString(), count })),
  };
}

// Timestamps have millisecond precision; fractions of a millisecond are averaging noise.
function roundMs(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms);
}
