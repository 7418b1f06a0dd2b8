ALTER TABLE "clients" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "agents" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "audit_events" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "audit_chain_heads" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "clients", "agents" TO maxai_app;
--> statement-breakpoint
-- The audit trail is append-only for the application: no UPDATE, no DELETE, whatever a bug or
-- an injected statement tries. (Retention purges run as the owner, outside the application.)
GRANT SELECT, INSERT ON "audit_events" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "audit_chain_heads" TO maxai_app;
