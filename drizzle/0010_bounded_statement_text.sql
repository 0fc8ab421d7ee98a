ALTER TABLE `statements` ADD `text_bytes` integer;--> statement-breakpoint
ALTER TABLE `statements` ADD `text_sha256` text;