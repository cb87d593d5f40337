-- Tracked repositories: one repository per normalized URL, shared by everyone who tracks it,
-- and every archive becomes a visit of its repository. Nothing in object storage moves: the
-- repository's bucket is the one its archives already use (same naming, bucketNameFor).
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- CreateEnum
CREATE TYPE "RepositoryState" AS ENUM ('active', 'paused', 'disabled');

-- CreateEnum
CREATE TYPE "ArchiveOutcome" AS ENUM ('changed', 'unchanged');

-- CreateTable
CREATE TABLE "repository" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "normalized_url" TEXT NOT NULL,
    "bucket" TEXT,
    "state" "RepositoryState" NOT NULL DEFAULT 'active',
    "state_reason" TEXT,
    "interval_seconds" INTEGER NOT NULL DEFAULT 86400,
    "pinned_interval_seconds" INTEGER,
    "next_visit_at" TIMESTAMPTZ(3),
    "last_visit_at" TIMESTAMPTZ(3),
    "last_success_at" TIMESTAMPTZ(3),
    "last_change_at" TIMESTAMPTZ(3),
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "repository_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "repository_tracker" (
    "repository_id" UUID NOT NULL,
    "user_subject" TEXT NOT NULL,
    "user_name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "repository_tracker_pkey" PRIMARY KEY ("repository_id","user_subject")
);

-- CreateIndex
CREATE UNIQUE INDEX "repository_normalized_url_key" ON "repository"("normalized_url");

-- CreateIndex
CREATE INDEX "repository_state_next_visit_at_idx" ON "repository"("state", "next_visit_at");

-- CreateIndex
CREATE INDEX "repository_tracker_user_subject_idx" ON "repository_tracker"("user_subject");

-- AddForeignKey
ALTER TABLE "repository_tracker" ADD CONSTRAINT "repository_tracker_repository_id_fkey" FOREIGN KEY ("repository_id") REFERENCES "repository"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AlterTable: nullable until the backfill below has linked every archive.
ALTER TABLE "archive" ADD COLUMN "repository_id" UUID,
ADD COLUMN "outcome" "ArchiveOutcome",
ADD COLUMN "refs_hash" TEXT;

-- Backfill: one repository per distinct normalized URL. Its url is the earliest archive's, its
-- bucket any archive's (all of one URL share one name), its visit stamps come from the archives
-- that finished. Every completed old snapshot stored everything, so each was a change. Nobody
-- tracks these repositories yet, so none is scheduled (next_visit_at NULL).
INSERT INTO "repository" ("id", "url", "normalized_url", "bucket", "last_visit_at", "last_success_at", "last_change_at", "created_at", "updated_at")
SELECT gen_random_uuid(),
       (array_agg(a."url" ORDER BY a."created_at", a."id"))[1],
       a."normalized_url",
       max(a."bucket"),
       max(a."finished_at") FILTER (WHERE a."status" IN ('completed', 'failed')),
       max(a."finished_at") FILTER (WHERE a."status" = 'completed'),
       max(a."finished_at") FILTER (WHERE a."status" = 'completed'),
       min(a."created_at"),
       CURRENT_TIMESTAMP
FROM "archive" a
GROUP BY a."normalized_url";

-- updated_at is left alone: the reconciler reads it as "last moved".
UPDATE "archive" a
SET "repository_id" = r."id",
    "outcome" = CASE WHEN a."status" = 'completed' THEN 'changed'::"ArchiveOutcome" END
FROM "repository" r
WHERE r."normalized_url" = a."normalized_url";

ALTER TABLE "archive" ALTER COLUMN "repository_id" SET NOT NULL;

-- Only a completed visit has an outcome (Prisma's schema cannot express a check constraint).
ALTER TABLE "archive" ADD CONSTRAINT "archive_outcome_completed_check" CHECK ("outcome" IS NULL OR "status" = 'completed');

-- CreateIndex
CREATE INDEX "archive_repository_id_created_at_idx" ON "archive"("repository_id", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "archive" ADD CONSTRAINT "archive_repository_id_fkey" FOREIGN KEY ("repository_id") REFERENCES "repository"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
