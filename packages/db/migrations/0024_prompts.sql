CREATE TABLE "agent_prompt_pins" (
	"tenant_id" uuid NOT NULL,
	"agent_id" uuid NOT NULL,
	"prompt_key" text NOT NULL,
	"label" text,
	"version_id" uuid,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agent_prompt_pins_tenant_id_agent_id_prompt_key_pk" PRIMARY KEY("tenant_id","agent_id","prompt_key"),
	CONSTRAINT "agent_prompt_pins_one_target" CHECK ((label is null) <> (version_id is null))
);
--> statement-breakpoint
ALTER TABLE "agent_prompt_pins" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "prompt_approvals" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"label" text NOT NULL,
	"from_version_id" uuid,
	"to_version_id" uuid,
	"status" text DEFAULT 'pending' NOT NULL,
	"requested_by_type" text NOT NULL,
	"requested_by" text NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prompt_approvals_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "prompt_approvals" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "prompt_labels" (
	"tenant_id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"name" text NOT NULL,
	"version_id" uuid NOT NULL,
	"previous_version_id" uuid,
	"moved_by" text NOT NULL,
	"moved_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prompt_labels_tenant_id_template_id_name_pk" PRIMARY KEY("tenant_id","template_id","name")
);
--> statement-breakpoint
ALTER TABLE "prompt_labels" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "prompt_templates" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"client_id" uuid,
	"key" text NOT NULL,
	"kind" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"protected_labels" text[] DEFAULT '{"production"}' NOT NULL,
	"latest_version" integer DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prompt_templates_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "prompt_templates_scope_key" UNIQUE NULLS NOT DISTINCT("tenant_id","client_id","key")
);
--> statement-breakpoint
ALTER TABLE "prompt_templates" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "prompt_versions" (
	"tenant_id" uuid NOT NULL,
	"id" uuid NOT NULL,
	"template_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"content" text DEFAULT '' NOT NULL,
	"messages" jsonb,
	"variables_schema" jsonb NOT NULL,
	"model_settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"change_note" text DEFAULT '' NOT NULL,
	"author_type" text NOT NULL,
	"author_id" text NOT NULL,
	"content_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prompt_versions_tenant_id_id_pk" PRIMARY KEY("tenant_id","id"),
	CONSTRAINT "prompt_versions_number_key" UNIQUE("tenant_id","template_id","version")
);
--> statement-breakpoint
ALTER TABLE "prompt_versions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "require_prompt_approval" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "agent_prompt_pins" ADD CONSTRAINT "agent_prompt_pins_tenant_id_agent_id_agents_tenant_id_id_fk" FOREIGN KEY ("tenant_id","agent_id") REFERENCES "public"."agents"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_prompt_pins" ADD CONSTRAINT "agent_prompt_pins_tenant_id_version_id_prompt_versions_tenant_id_id_fk" FOREIGN KEY ("tenant_id","version_id") REFERENCES "public"."prompt_versions"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_approvals" ADD CONSTRAINT "prompt_approvals_tenant_id_template_id_prompt_templates_tenant_id_id_fk" FOREIGN KEY ("tenant_id","template_id") REFERENCES "public"."prompt_templates"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_labels" ADD CONSTRAINT "prompt_labels_tenant_id_template_id_prompt_templates_tenant_id_id_fk" FOREIGN KEY ("tenant_id","template_id") REFERENCES "public"."prompt_templates"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_labels" ADD CONSTRAINT "prompt_labels_tenant_id_version_id_prompt_versions_tenant_id_id_fk" FOREIGN KEY ("tenant_id","version_id") REFERENCES "public"."prompt_versions"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_labels" ADD CONSTRAINT "prompt_labels_tenant_id_previous_version_id_prompt_versions_tenant_id_id_fk" FOREIGN KEY ("tenant_id","previous_version_id") REFERENCES "public"."prompt_versions"("tenant_id","id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_templates" ADD CONSTRAINT "prompt_templates_tenant_id_client_id_clients_tenant_id_id_fk" FOREIGN KEY ("tenant_id","client_id") REFERENCES "public"."clients"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prompt_versions" ADD CONSTRAINT "prompt_versions_tenant_id_template_id_prompt_templates_tenant_id_id_fk" FOREIGN KEY ("tenant_id","template_id") REFERENCES "public"."prompt_templates"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "prompt_approvals_pending_key" ON "prompt_approvals" USING btree ("tenant_id","template_id","label") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "prompt_approvals_status_idx" ON "prompt_approvals" USING btree ("tenant_id","status","id");--> statement-breakpoint
CREATE INDEX "prompt_templates_key_idx" ON "prompt_templates" USING btree ("tenant_id","key");--> statement-breakpoint
CREATE POLICY "agent_prompt_pins_tenant_isolation" ON "agent_prompt_pins" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("agent_prompt_pins"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("agent_prompt_pins"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "agent_prompt_pins_system_access" ON "agent_prompt_pins" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "prompt_approvals_tenant_isolation" ON "prompt_approvals" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("prompt_approvals"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("prompt_approvals"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "prompt_approvals_system_access" ON "prompt_approvals" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "prompt_labels_tenant_isolation" ON "prompt_labels" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("prompt_labels"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("prompt_labels"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "prompt_labels_system_access" ON "prompt_labels" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "prompt_templates_tenant_isolation" ON "prompt_templates" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("prompt_templates"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("prompt_templates"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "prompt_templates_system_access" ON "prompt_templates" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');--> statement-breakpoint
CREATE POLICY "prompt_versions_tenant_isolation" ON "prompt_versions" AS PERMISSIVE FOR ALL TO "maxai_app" USING ("prompt_versions"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid) WITH CHECK ("prompt_versions"."tenant_id" = nullif(current_setting('app.tenant_id', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "prompt_versions_system_access" ON "prompt_versions" AS PERMISSIVE FOR ALL TO "maxai_app" USING (current_setting('app.system', true) = 'on') WITH CHECK (current_setting('app.system', true) = 'on');