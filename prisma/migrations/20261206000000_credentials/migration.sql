-- Credentials of private upstreams (issue 12): the ciphertext (AES-256-GCM, its key id inside,
-- made by libs/credentials), its kind, and when it was set and last used. Never the secret in clear.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- AlterTable
ALTER TABLE "repository" ADD COLUMN "credential" TEXT,
ADD COLUMN "credential_kind" TEXT,
ADD COLUMN "credential_updated_at" TIMESTAMPTZ(3),
ADD COLUMN "credential_last_used_at" TIMESTAMPTZ(3);
