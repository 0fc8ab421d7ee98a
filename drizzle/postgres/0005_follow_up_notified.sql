ALTER TABLE "request_follow_ups" ADD COLUMN "notified_at" bigint;--> statement-breakpoint
ALTER TABLE "request_follow_ups" ADD COLUMN "notify_until" bigint;