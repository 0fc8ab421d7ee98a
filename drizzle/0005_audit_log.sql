CREATE TABLE `audit_anchors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`kind` text NOT NULL,
	`at` integer NOT NULL,
	`row_id` integer NOT NULL,
	`hash` text NOT NULL,
	`signature` text
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`type` text NOT NULL,
	`agent_id` text,
	`person` text,
	`resource` text,
	`session_id` text,
	`request_id` text,
	`grant_id` text,
	`decision` text,
	`sql` text,
	`tables` text,
	`data` text NOT NULL,
	`source` text,
	`prev_hash` text NOT NULL,
	`hash` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_agent` ON `audit_log` (`agent_id`,`at`);--> statement-breakpoint
CREATE INDEX `audit_request` ON `audit_log` (`request_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `audit_source` ON `audit_log` (`source`);