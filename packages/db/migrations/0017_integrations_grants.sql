ALTER TABLE "tenant_data_keys" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "connections" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "oauth_states" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "port_bindings" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Data keys are never deleted by the application (a lost key loses every secret it sealed).
GRANT SELECT, INSERT, UPDATE ON "tenant_data_keys" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "connections", "oauth_states", "port_bindings" TO maxai_app;
