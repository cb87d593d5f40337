-- Restore drills: the verification job records, per snapshot, when a drill last passed
-- (verified_at), the last failure (verify_error_code, verify_error) and when a drill last ran
-- (verify_checked_at, pass or fail), which the scheduled sampler orders by.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- AlterTable
ALTER TABLE "archive" ADD COLUMN "verified_at" TIMESTAMPTZ(3),
ADD COLUMN "verify_error_code" TEXT,
ADD COLUMN "verify_error" TEXT,
ADD COLUMN "verify_checked_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "archive_status_verify_checked_at_idx" ON "archive"("status", "verify_checked_at");
