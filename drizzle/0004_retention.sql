CREATE TABLE "legal_holds" (
	"id" uuid PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"from_at" timestamp (3) with time zone,
	"to_at" timestamp (3) with time zone,
	"placed_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"placed_by" text NOT NULL,
	"released_at" timestamp (3) with time zone,
	"released_by" text,
	CONSTRAINT "legal_holds_range_order" CHECK ("legal_holds"."from_at" is null or "legal_holds"."to_at" is null or "legal_holds"."from_at" < "legal_holds"."to_at")
);
--> statement-breakpoint
CREATE TABLE "purge_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"as_of" timestamp (3) with time zone NOT NULL,
	"started_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp (3) with time zone,
	"dry_run" boolean NOT NULL,
	"trigger" text NOT NULL,
	"deleted_counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"dropped_partitions" text[] DEFAULT '{}'::text[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "retention_policies" (
	"organization_id" uuid PRIMARY KEY NOT NULL,
	"retention_days" integer NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "retention_policies_days_range" CHECK ("retention_policies"."retention_days" between 1 and 3650)
);
--> statement-breakpoint
ALTER TABLE "legal_holds" ADD CONSTRAINT "legal_holds_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "retention_policies" ADD CONSTRAINT "retention_policies_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "legal_holds_organization_idx" ON "legal_holds" USING btree ("organization_id","placed_at");--> statement-breakpoint
CREATE INDEX "purge_runs_finished_idx" ON "purge_runs" USING btree ("dry_run","finished_at");