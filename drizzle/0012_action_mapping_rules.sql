CREATE TABLE "action_mapping_rules" (
	"organization_id" uuid NOT NULL,
	"position" smallint NOT NULL,
	"pattern" text NOT NULL,
	"category" text,
	"types" text[],
	"outcome" text,
	"severity" smallint,
	"ocsf_class_uid" integer,
	"ocsf_activity_id" smallint,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "action_mapping_rules_pkey" PRIMARY KEY("organization_id","position"),
	CONSTRAINT "action_mapping_rules_severity_range" CHECK ("action_mapping_rules"."severity" between 0 and 10),
	CONSTRAINT "action_mapping_rules_ocsf_pair" CHECK (("action_mapping_rules"."ocsf_class_uid" is null) = ("action_mapping_rules"."ocsf_activity_id" is null))
);
--> statement-breakpoint
ALTER TABLE "action_mapping_rules" ADD CONSTRAINT "action_mapping_rules_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;