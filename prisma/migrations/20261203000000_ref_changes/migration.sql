-- Ref changes: each completed visit records how the refs moved against the completed visit
-- before it (changes_since_id), so GET /api/repositories/:id/changes can tell fast-forwards
-- from force-pushes, deleted branches and moved tags between any two snapshots.
-- Visits completed before this migration have no change summary (null), which the API reports.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- CreateEnum
CREATE TYPE "RefChangeKind" AS ENUM ('created', 'deleted', 'fast_forward', 'non_fast_forward', 'tag_moved');

-- AlterTable
ALTER TABLE "archive" ADD COLUMN "changes_since_id" UUID,
ADD COLUMN "change_summary" JSONB;

-- CreateTable
CREATE TABLE "ref_change" (
    "archive_id" UUID NOT NULL,
    "name" BYTEA NOT NULL,
    "kind" "RefChangeKind" NOT NULL,
    "old_sha" TEXT,
    "new_sha" TEXT,

    CONSTRAINT "ref_change_pkey" PRIMARY KEY ("archive_id","name")
);

-- AddForeignKey
ALTER TABLE "ref_change" ADD CONSTRAINT "ref_change_archive_id_fkey" FOREIGN KEY ("archive_id") REFERENCES "archive"("id") ON DELETE CASCADE ON UPDATE CASCADE;
