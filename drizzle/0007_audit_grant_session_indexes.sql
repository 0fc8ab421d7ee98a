CREATE INDEX `audit_grant` ON `audit_log` (`grant_id`);--> statement-breakpoint
CREATE INDEX `audit_session` ON `audit_log` (`session_id`);