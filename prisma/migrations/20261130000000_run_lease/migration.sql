-- A run's claim on its archive: only the run holding a live lease may write the archive's
-- outcome, and another run may take the archive over only once that lease has expired.
ALTER TABLE "archive" ADD COLUMN "run_id" UUID;
ALTER TABLE "archive" ADD COLUMN "run_expires_at" TIMESTAMPTZ(3);

-- The reconciler's scan: non-terminal archives by how long they have sat unchanged.
CREATE INDEX "archive_status_updated_at_idx" ON "archive"("status", "updated_at");
