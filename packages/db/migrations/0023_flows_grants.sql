ALTER TABLE "flows" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "flow_versions" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "flow_runs" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "flow_run_steps" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "side_effects" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "usage_events" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "flows" TO maxai_app;
--> statement-breakpoint
-- A version is what a run executed: never rewritten.
GRANT SELECT, INSERT ON "flow_versions" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "flow_runs" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "flow_run_steps" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "side_effects" TO maxai_app;
--> statement-breakpoint
-- Usage is billing evidence: appended, never changed.
GRANT SELECT, INSERT ON "usage_events" TO maxai_app;
