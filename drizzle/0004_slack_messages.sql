CREATE TABLE `slack_messages` (
	`request_id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`ts` text,
	`state` text NOT NULL,
	`shown` text,
	`error` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`updated_at` integer NOT NULL
);
