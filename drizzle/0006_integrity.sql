CREATE TABLE "checkpoints" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "checkpoints_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"organization_id" uuid NOT NULL,
	"tree_size" bigint NOT NULL,
	"root_hash" "bytea" NOT NULL,
	"signed_note" text NOT NULL,
	"verifier_key" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "integrity_signing_key" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"signer_key" text NOT NULL,
	"verifier_key" text NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "integrity_signing_key_single_row" CHECK ("integrity_signing_key"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "merkle_leaves" (
	"organization_id" uuid NOT NULL,
	"leaf_index" bigint NOT NULL,
	"event_id" uuid NOT NULL,
	"received_at" timestamp (3) with time zone NOT NULL,
	"xid" "xid8" NOT NULL,
	"leaf_hash" "bytea" NOT NULL,
	"sealed_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "merkle_leaves_pkey" PRIMARY KEY("organization_id","leaf_index")
);
--> statement-breakpoint
CREATE TABLE "merkle_logs" (
	"organization_id" uuid PRIMARY KEY NOT NULL,
	"tree_size" bigint NOT NULL,
	"compact_range" jsonb NOT NULL,
	"sealed_through" timestamp (3) with time zone,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "merkle_nodes" (
	"organization_id" uuid NOT NULL,
	"level" smallint NOT NULL,
	"index" bigint NOT NULL,
	"hash" "bytea" NOT NULL,
	CONSTRAINT "merkle_nodes_pkey" PRIMARY KEY("organization_id","level","index")
);
--> statement-breakpoint
CREATE TABLE "integrity_sealer" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"xid" "xid8" NOT NULL,
	"event_id" uuid NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "integrity_sealer_single_row" CHECK ("integrity_sealer"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "merkle_logs" ADD CONSTRAINT "merkle_logs_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "checkpoints_org_size_idx" ON "checkpoints" USING btree ("organization_id","tree_size" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "merkle_leaves_event_idx" ON "merkle_leaves" USING btree ("event_id");