CREATE TABLE `request_previews` (
	`request_id` text PRIMARY KEY NOT NULL,
	`preview` text NOT NULL,
	`created_at` integer NOT NULL
);
