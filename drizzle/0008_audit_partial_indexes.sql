DROP INDEX `audit_request`;--> statement-breakpoint
DROP INDEX `audit_grant`;--> statement-breakpoint
DROP INDEX `audit_source`;--> statement-breakpoint
CREATE INDEX `audit_request` ON `audit_log` (`request_id`) WHERE request_id is not null;--> statement-breakpoint
CREATE INDEX `audit_grant` ON `audit_log` (`grant_id`) WHERE grant_id is not null;--> statement-breakpoint
CREATE UNIQUE INDEX `audit_source` ON `audit_log` (`source`) WHERE source is not null;