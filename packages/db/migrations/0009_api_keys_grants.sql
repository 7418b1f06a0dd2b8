ALTER TABLE "api_keys" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "api_keys" TO maxai_app;
