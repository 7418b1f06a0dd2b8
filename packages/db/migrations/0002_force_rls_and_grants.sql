-- FORCE makes row-level security apply to the table owner too, so a migration or maintenance
-- session that forgets its tenant context sees nothing rather than everything.
ALTER TABLE "tenants" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "jobs" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "tenants", "jobs" TO maxai_app;
