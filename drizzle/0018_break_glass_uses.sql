CREATE TABLE `break_glass_uses` (
	`id` text PRIMARY KEY NOT NULL,
	`agent_id` text NOT NULL,
	`groups` text NOT NULL,
	`resource` text NOT NULL,
	`reason` text,
	`duration_ms` integer NOT NULL,
	`created_at` integer NOT NULL,
	`reviewed_at` integer,
	`reviewed_by` text,
	`review_note` text
);
--> statement-breakpoint
CREATE INDEX `break_glass_uses_review` ON `break_glass_uses` (`reviewed_at`,`created_at`);