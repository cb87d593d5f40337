-- The requester's name (the token's preferred_username) beside the subject id, so admins can
-- see who asked for an archive. Nullable: archives recorded before this column have no name.
ALTER TABLE "archive" ADD COLUMN "requested_by_name" TEXT;
