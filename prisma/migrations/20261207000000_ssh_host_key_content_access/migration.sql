-- SSH host keys pinned per repository, and who may read a private repository's content (issue 12).
-- ssh_host_key: the server's public host keys (not secret), given with the credential or pinned at first use.
-- credential_set_by: the subject who set the current credential, granted content access once a visit with it succeeds.
-- content_access: that tracker proved access to the upstream through a successful visit with their own credential.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- AlterTable
ALTER TABLE "repository" ADD COLUMN "ssh_host_key" TEXT,
ADD COLUMN "credential_set_by" TEXT;

-- AlterTable
ALTER TABLE "repository_tracker" ADD COLUMN "content_access" BOOLEAN NOT NULL DEFAULT false;
