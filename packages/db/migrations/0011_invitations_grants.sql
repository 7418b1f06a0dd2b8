ALTER TABLE "invitations" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "invitations" TO maxai_app;
