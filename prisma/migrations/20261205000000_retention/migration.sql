-- Retention: a per-repository policy (all null keeps every snapshot), the maintenance lease a
-- prune holds so that no visit of the repository starts meanwhile (ArchiveRepository.claimRun
-- checks it under a row lock), and what the last prune did.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- AlterTable
ALTER TABLE "repository" ADD COLUMN "retention_keep_last" INTEGER,
ADD COLUMN "retention_keep_daily" INTEGER,
ADD COLUMN "retention_keep_weekly" INTEGER,
ADD COLUMN "retention_keep_monthly" INTEGER,
ADD COLUMN "maintenance_until" TIMESTAMPTZ(3),
ADD COLUMN "maintenance_run_id" UUID,
ADD COLUMN "last_pruned_at" TIMESTAMPTZ(3),
ADD COLUMN "last_prune_summary" JSONB;
