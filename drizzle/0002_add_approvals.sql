CREATE TABLE `access_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`groups` text NOT NULL,
	`resource` text NOT NULL,
	`session_id` text,
	`statements` text NOT NULL,
	`kinds` text NOT NULL,
	`tables` text NOT NULL,
	`rule` text NOT NULL,
	`why` text NOT NULL,
	`approver_groups` text NOT NULL,
	`required_approvals` integer NOT NULL,
	`grant_options` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`decided_at` integer,
	`outcome_reason` text,
	`grant_id` text,
	`consumed_at` integer
);
--> statement-breakpoint
CREATE INDEX `access_requests_status` ON `access_requests` (`status`,`created_at`);--> statement-breakpoint
CREATE TABLE `grants` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`resource` text NOT NULL,
	`kinds` text NOT NULL,
	`tables` text NOT NULL,
	`rule` text NOT NULL,
	`request_id` text NOT NULL,
	`approved_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	`revoked_by` text,
	`use_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `grants_agent` ON `grants` (`agent_id`,`resource`);--> statement-breakpoint
CREATE TABLE `request_decisions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`person_email` text NOT NULL,
	`decision` text NOT NULL,
	`grant_ms` integer,
	`reason` text,
	`via` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `request_decisions_once` ON `request_decisions` (`request_id`,`person_email`);--> statement-breakpoint
ALTER TABLE `statements` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `statements` ADD `grant_id` text;