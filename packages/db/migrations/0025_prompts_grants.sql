ALTER TABLE "prompt_templates" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "prompt_versions" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "prompt_labels" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "prompt_approvals" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "agent_prompt_pins" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
-- Versions are immutable: the application inserts and reads them; they go only with their
-- template (ON DELETE CASCADE runs as the table owner's referential action).
GRANT SELECT, INSERT ON "prompt_versions" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "prompt_templates", "prompt_labels", "prompt_approvals", "agent_prompt_pins" TO maxai_app;
