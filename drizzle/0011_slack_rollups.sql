CREATE TABLE `slack_rollups` (
	`channel` text NOT NULL,
	`agent_id` text NOT NULL,
	`posted_channel` text,
	`ts` text,
	`shown` text,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`channel`, `agent_id`)
);
