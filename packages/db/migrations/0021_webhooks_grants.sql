ALTER TABLE "webhook_endpoints" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "external_ids" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "webhook_endpoints" TO maxai_app;
--> statement-breakpoint
-- Deliveries are evidence: the application never deletes one; it only counts redeliveries,
-- re-normalizes a dead letter on replay and purges the raw body after the retention period.
GRANT SELECT, INSERT ON "webhook_deliveries" TO maxai_app;
--> statement-breakpoint
GRANT UPDATE (duplicate_count, last_duplicate_at, body_sealed, purged_at, status, failure_reason, provider_event_type) ON "webhook_deliveries" TO maxai_app;
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON "external_ids" TO maxai_app;
--> statement-breakpoint
-- Events stay facts; only the dispatcher's bookkeeping columns change.
GRANT UPDATE (dispatched_at, dispatch_count) ON "domain_events" TO maxai_app;
