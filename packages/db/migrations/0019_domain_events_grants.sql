ALTER TABLE "domain_events" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Events are facts: the application appends and reads them, never rewrites them.
GRANT SELECT, INSERT ON "domain_events" TO maxai_app;
