CREATE TABLE `people` (
	`email` text PRIMARY KEY NOT NULL,
	`name` text,
	`groups` text NOT NULL,
	`role` text NOT NULL,
	`first_seen_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`last_sign_in_at` integer NOT NULL
);
