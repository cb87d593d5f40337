-- One-off archives with their own credential (issue 12 item 1): the ciphertext of a credential
-- given with POST /api/archives, for that archive's clone only, in its own table so that it never
-- travels with archive rows. The ciphertext is dropped once the archive has finished, the kind stays.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- CreateTable
CREATE TABLE "archive_credential" (
    "archive_id" UUID NOT NULL,
    "credential" TEXT,
    "credential_kind" TEXT NOT NULL,
    "ssh_host_key" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "archive_credential_pkey" PRIMARY KEY ("archive_id")
);

-- AddForeignKey
ALTER TABLE "archive_credential" ADD CONSTRAINT "archive_credential_archive_id_fkey" FOREIGN KEY ("archive_id") REFERENCES "archive"("id") ON DELETE CASCADE ON UPDATE CASCADE;
