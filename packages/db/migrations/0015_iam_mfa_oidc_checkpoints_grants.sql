ALTER TABLE "audit_checkpoints" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Checkpoints are evidence: like the audit trail, the application may add and read, never change.
GRANT SELECT, INSERT ON "audit_checkpoints" TO maxai_app;
--> statement-breakpoint
-- Recovery codes are replaced as a set when regenerated, so DELETE is granted.
GRANT SELECT, INSERT, UPDATE, DELETE ON "recovery_codes" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON "user_identities" TO maxai_app;
