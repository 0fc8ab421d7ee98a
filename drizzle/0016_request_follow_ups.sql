CREATE TABLE `request_follow_ups` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`request_id` text NOT NULL,
	`kind` text NOT NULL,
	`seq` integer NOT NULL,
	`at` integer NOT NULL,
	`groups` text NOT NULL,
	`channel` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `request_follow_ups_once` ON `request_follow_ups` (`request_id`,`kind`,`seq`);--> statement-breakpoint
ALTER TABLE `access_requests` ADD `follow_up` text;