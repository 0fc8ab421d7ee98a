ALTER TABLE `request_follow_ups` ADD `notified_at` integer;--> statement-breakpoint
ALTER TABLE `request_follow_ups` ADD `notify_until` integer;