ALTER TABLE "merkle_logs" DROP CONSTRAINT "merkle_logs_organization_id_organizations_id_fk";
