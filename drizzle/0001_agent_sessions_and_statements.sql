CREATE TABLE `agent_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`groups` text NOT NULL,
	`resource` text NOT NULL,
	`client_address` text,
	`application_name` text,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`end_reason` text
);
--> statement-breakpoint
CREATE INDEX `agent_sessions_started_at` ON `agent_sessions` (`started_at`);--> statement-breakpoint
CREATE TABLE `statements` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`session_id` text NOT NULL,
	`text` text NOT NULL,
	`params` text,
	`protocol` text NOT NULL,
	`outcome` text NOT NULL,
	`error_code` text,
	`error_message` text,
	`rows` integer DEFAULT 0 NOT NULL,
	`duration_ms` real NOT NULL,
	`started_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `statements_session` ON `statements` (`session_id`);--> statement-breakpoint
CREATE INDEX `statements_started_at` ON `statements` (`started_at`);