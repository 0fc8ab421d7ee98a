CREATE TABLE "request_undos" (
	"request_id" text PRIMARY KEY NOT NULL,
	"resource" text NOT NULL,
	"kind" text,
	"target" text,
	"rows" text,
	"row_count" bigint NOT NULL,
	"unavailable" text,
	"captured_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"revert_request_id" text,
	"reverted_at" bigint,
	"revert_outcome" text
);
