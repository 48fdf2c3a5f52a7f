CREATE TABLE "export_destinations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"url" text NOT NULL,
	"format" text NOT NULL,
	"actions" text[] DEFAULT '{}'::text[] NOT NULL,
	"query" text,
	"options" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"sealed_secret" text,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"cursor_xid" "xid8" NOT NULL,
	"cursor_id" uuid NOT NULL,
	"resend_through_xid" "xid8",
	"resend_through_id" uuid,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone,
	"last_success_at" timestamp (3) with time zone,
	"last_error" text,
	"last_error_at" timestamp (3) with time zone,
	"delivered_count" bigint DEFAULT 0 NOT NULL,
	"duplicates_count" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "export_destinations" ADD CONSTRAINT "export_destinations_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "export_destinations_org_name_idx" ON "export_destinations" USING btree ("organization_id","name");--> statement-breakpoint
CREATE INDEX "export_destinations_status_idx" ON "export_destinations" USING btree ("status","next_attempt_at");