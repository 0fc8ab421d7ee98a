CREATE TABLE `saml_one_time` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `saml_one_time_expiry` ON `saml_one_time` (`expires_at`);