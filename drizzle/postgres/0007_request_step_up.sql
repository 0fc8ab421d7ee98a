ALTER TABLE "access_requests" ADD COLUMN "step_up_ms" bigint;--> statement-breakpoint
ALTER TABLE "request_decisions" ADD COLUMN "auth_at" bigint;