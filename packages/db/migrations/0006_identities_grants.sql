ALTER TABLE "memberships" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "client_memberships" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "memberships", "client_memberships" TO maxai_app;
--> statement-breakpoint
-- Global identity tables (no tenant): reached only through the IAM module's repositories.
GRANT SELECT, INSERT, UPDATE ON "users", "refresh_tokens", "signing_keys" TO maxai_app;
