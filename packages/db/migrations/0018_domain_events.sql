CREATE TABLE "domain_events" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"type" text NOT NULL,
	"source" text NOT NULL,
	"subject" text,
	"client_id" uuid,
	"time" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"correlation_id" text,
	"data" jsonb NOT NULL,
	CONSTRAINT "domain_events_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "domain_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE INDEX "domain_events_type_idx" ON "domain_events" USING btree ("tenant_id","type","time");--> statement-breakpoint
CREATE POLICY "domain_events_tenant_isolation" ON "domain_events" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("domain_events"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("domain_events"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "domain_events_system_access" ON "domain_events" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');