ALTER TABLE `access_requests` ADD `step_up_ms` integer;--> statement-breakpoint
ALTER TABLE `request_decisions` ADD `auth_at` integer;