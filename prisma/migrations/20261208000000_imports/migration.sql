-- Whole-organization imports (issue 12 item 4): one row per import with its forge token encrypted
-- (libs/credentials), one row per listed repository with what the import did with it.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- CreateEnum
CREATE TYPE "ImportState" AS ENUM ('listing', 'tracking', 'completed', 'failed');

-- CreateTable
CREATE TABLE "repository_import" (
    "id" UUID NOT NULL,
    "requested_by" TEXT NOT NULL,
    "requested_by_name" TEXT,
    "requested_by_admin" BOOLEAN NOT NULL DEFAULT false,
    "forge" TEXT NOT NULL,
    "base_url" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "token" TEXT,
    "include" TEXT,
    "exclude" TEXT,
    "include_forks" BOOLEAN NOT NULL DEFAULT false,
    "include_archived" BOOLEAN NOT NULL DEFAULT false,
    "interval_hours" DOUBLE PRECISION,
    "state" "ImportState" NOT NULL DEFAULT 'listing',
    "error_code" TEXT,
    "error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "repository_import_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "repository_import_item" (
    "id" UUID NOT NULL,
    "import_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "private" BOOLEAN NOT NULL DEFAULT false,
    "fork" BOOLEAN NOT NULL DEFAULT false,
    "archived" BOOLEAN NOT NULL DEFAULT false,
    "outcome" TEXT NOT NULL DEFAULT 'pending',
    "error_code" TEXT,
    "error" TEXT,
    "repository_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "repository_import_item_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "repository_import_requested_by_created_at_idx" ON "repository_import"("requested_by", "created_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "repository_import_item_import_id_name_key" ON "repository_import_item"("import_id", "name");

-- AddForeignKey
ALTER TABLE "repository_import_item" ADD CONSTRAINT "repository_import_item_import_id_fkey" FOREIGN KEY ("import_id") REFERENCES "repository_import"("id") ON DELETE CASCADE ON UPDATE CASCADE;
