CREATE TABLE `request_undos` (
	`request_id` text PRIMARY KEY NOT NULL,
	`resource` text NOT NULL,
	`kind` text,
	`target` text,
	`rows` text,
	`row_count` integer NOT NULL,
	`unavailable` text,
	`captured_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revert_request_id` text,
	`reverted_at` integer,
	`revert_outcome` text
);
