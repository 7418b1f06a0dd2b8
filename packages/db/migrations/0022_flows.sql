CREATE TABLE "flow_run_steps" (
	"tenant_id" uuid NOT NULL,
	"run_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"step_id" text NOT NULL,
	"type" text NOT NULL,
	"status" text NOT NULL,
	"input" jsonb,
	"output" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"error" text,
	"error_kind" text,
	"idempotency_key" text,
	"prompt_version_id" text,
	"runnable_at" timestamp (3) with time zone NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "flow_run_steps_tenant_id_run_id_seq_pk" PRIMARY KEY("tenant_id","run_id","seq")
);
--> statement-breakpoint
ALTER TABLE "flow_run_steps" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "flow_runs" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"flow_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"client_id" uuid,
	"agent_id" uuid,
	"trigger_event_id" text NOT NULL,
	"trigger_event" jsonb NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"cursor" text,
	"vars" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"iterations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"outputs" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"waiting_type" text,
	"waiting_key" text,
	"wake_at" timestamp (3) with time zone,
	"step_seq" integer DEFAULT 0 NOT NULL,
	"attempt_group" integer DEFAULT 0 NOT NULL,
	"deadline_at" timestamp (3) with time zone,
	"locked_by" text,
	"locked_until" timestamp (3) with time zone,
	"error" text,
	"queued_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp (3) with time zone,
	"finished_at" timestamp (3) with time zone,
	CONSTRAINT "flow_runs_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "flow_runs_trigger_key" UNIQUE("tenant_id","flow_id","trigger_event_id")
);
--> statement-breakpoint
ALTER TABLE "flow_runs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "flow_versions" (
	"tenant_id" uuid NOT NULL,
	"flow_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"definition" jsonb NOT NULL,
	"change_note" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flow_versions_tenant_id_flow_id_version_pk" PRIMARY KEY("tenant_id","flow_id","version")
);
--> statement-breakpoint
ALTER TABLE "flow_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "flows" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid,
	"name" text NOT NULL,
	"active_version" integer,
	"template" text,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flows_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "flows" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "side_effects" (
	"tenant_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"run_id" uuid NOT NULL,
	"step_id" text NOT NULL,
	"state" text NOT NULL,
	"result" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "side_effects_tenant_id_idempotency_key_pk" PRIMARY KEY("tenant_id","idempotency_key")
);
--> statement-breakpoint
ALTER TABLE "side_effects" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "usage_events" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid,
	"agent_id" uuid,
	"flow_id" uuid,
	"run_id" uuid,
	"step_id" text,
	"attempt_group" integer DEFAULT 0 NOT NULL,
	"kind" text NOT NULL,
	"provider" text NOT NULL,
	"operation" text NOT NULL,
	"quantity" bigint NOT NULL,
	"cost_micros" bigint,
	"currency" text DEFAULT 'USD' NOT NULL,
	"prompt_version_id" text,
	"reference" text,
	"occurred_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "usage_events_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "usage_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "flow_http_allowlist" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "flow_run_steps" ADD CONSTRAINT "flow_run_steps_tenant_id_run_id_flow_runs_tenant_id_id_fk" FOREIGN KEY ("tenant_id","run_id") REFERENCES "public"."flow_runs"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow_runs" ADD CONSTRAINT "flow_runs_tenant_id_flow_id_flows_tenant_id_id_fk" FOREIGN KEY ("tenant_id","flow_id") REFERENCES "public"."flows"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flow_versions" ADD CONSTRAINT "flow_versions_tenant_id_flow_id_flows_tenant_id_id_fk" FOREIGN KEY ("tenant_id","flow_id") REFERENCES "public"."flows"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flows" ADD CONSTRAINT "flows_tenant_id_client_id_clients_tenant_id_id_fk" FOREIGN KEY ("tenant_id","client_id") REFERENCES "public"."clients"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "flow_runs_runnable_idx" ON "flow_runs" USING btree ("status","wake_at") WHERE status in ('queued', 'running', 'waiting');--> statement-breakpoint
CREATE INDEX "flow_runs_waiting_idx" ON "flow_runs" USING btree ("tenant_id","waiting_type","waiting_key") WHERE status = 'waiting';--> statement-breakpoint
CREATE INDEX "flow_runs_list_idx" ON "flow_runs" USING btree ("tenant_id","flow_id","queued_at");--> statement-breakpoint
CREATE INDEX "flows_active_idx" ON "flows" USING btree ("tenant_id") WHERE active_version is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "usage_events_step_key" ON "usage_events" USING btree ("tenant_id","run_id","step_id","attempt_group","kind") WHERE run_id is not null;--> statement-breakpoint
CREATE INDEX "usage_events_client_idx" ON "usage_events" USING btree ("tenant_id","client_id","occurred_at");--> statement-breakpoint
CREATE POLICY "flow_run_steps_tenant_isolation" ON "flow_run_steps" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("flow_run_steps"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("flow_run_steps"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "flow_run_steps_system_access" ON "flow_run_steps" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "flow_runs_tenant_isolation" ON "flow_runs" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("flow_runs"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("flow_runs"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "flow_runs_system_access" ON "flow_runs" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "flow_versions_tenant_isolation" ON "flow_versions" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("flow_versions"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("flow_versions"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "flow_versions_system_access" ON "flow_versions" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "flows_tenant_isolation" ON "flows" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("flows"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("flows"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "flows_system_access" ON "flows" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "side_effects_tenant_isolation" ON "side_effects" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("side_effects"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("side_effects"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "side_effects_system_access" ON "side_effects" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "usage_events_tenant_isolation" ON "usage_events" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("usage_events"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("usage_events"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "usage_events_system_access" ON "usage_events" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');