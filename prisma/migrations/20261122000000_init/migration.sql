-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ArchiveStatus" AS ENUM ('pending', 'queued', 'running', 'completed', 'failed');

-- CreateTable
CREATE TABLE "archive" (
    "id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "normalized_url" TEXT NOT NULL,
    "status" "ArchiveStatus" NOT NULL DEFAULT 'pending',
    "requested_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "injected_at" TIMESTAMPTZ(3),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error_code" TEXT,
    "error" TEXT,
    "bucket" TEXT,
    "prefix" TEXT,
    "commit" TEXT,
    "ref_count" INTEGER,
    "file_count" INTEGER,
    "byte_count" BIGINT,

    CONSTRAINT "archive_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "archive_requested_by_created_at_idx" ON "archive"("requested_by", "created_at" DESC);

-- CreateIndex
CREATE INDEX "archive_status_created_at_idx" ON "archive"("status", "created_at" DESC);

-- CreateIndex
CREATE INDEX "archive_created_at_idx" ON "archive"("created_at" DESC);

-- CreateIndex
CREATE INDEX "archive_normalized_url_idx" ON "archive"("normalized_url");

-- At most one active archive per repository and user: concurrent identical submissions collapse
-- onto the row that wins this index (Prisma's schema cannot express a partial index).
CREATE UNIQUE INDEX "archive_active_per_user_key" ON "archive"("requested_by", "normalized_url")
  WHERE "status" IN ('pending', 'queued', 'running');
