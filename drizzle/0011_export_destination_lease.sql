ALTER TABLE "export_destinations" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "export_destinations" ADD COLUMN "lease_expires_at" timestamp (3) with time zone;