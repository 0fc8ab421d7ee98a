ALTER TABLE `access_requests` ADD `kind` text DEFAULT 'statement' NOT NULL;--> statement-breakpoint
ALTER TABLE `access_requests` ADD `duration_ms` integer;--> statement-breakpoint
ALTER TABLE `access_requests` ADD `reason` text;