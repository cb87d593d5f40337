-- The audit log: one row per successful change made through the API (who, what, when, which
-- request), read by admins through GET /api/audit. Details hold only fields an action names as
-- safe to keep, never a secret.
-- No semicolons in comments: the driver adapter that applies migrations splits scripts on every one.

-- CreateTable
CREATE TABLE "audit_event" (
    "id" UUID NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_subject" TEXT NOT NULL,
    "actor_name" TEXT,
    "action" TEXT NOT NULL,
    "target_type" TEXT NOT NULL,
    "target_id" TEXT,
    "request_id" TEXT,
    "details" JSONB,

    CONSTRAINT "audit_event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_event_at_idx" ON "audit_event"("at" DESC);
CREATE INDEX "audit_event_actor_subject_at_idx" ON "audit_event"("actor_subject", "at" DESC);
CREATE INDEX "audit_event_action_at_idx" ON "audit_event"("action", "at" DESC);
CREATE INDEX "audit_event_target_id_at_idx" ON "audit_event"("target_id", "at" DESC);
