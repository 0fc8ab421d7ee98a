-- Hand-edited after generation: the new column starts as '[]' and is filled from the old kinds × tables (the cross product is what those grants and requests meant) before the old columns go.
ALTER TABLE `access_requests` ADD `scope` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
UPDATE `access_requests` SET `scope` = (SELECT json_group_array(json_object('kind', k.value, 'table', t.value)) FROM json_each(`access_requests`.`kinds`) k, json_each(`access_requests`.`tables`) t);--> statement-breakpoint
ALTER TABLE `access_requests` DROP COLUMN `kinds`;--> statement-breakpoint
ALTER TABLE `access_requests` DROP COLUMN `tables`;--> statement-breakpoint
ALTER TABLE `grants` ADD `scope` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
UPDATE `grants` SET `scope` = (SELECT json_group_array(json_object('kind', k.value, 'table', t.value)) FROM json_each(`grants`.`kinds`) k, json_each(`grants`.`tables`) t);--> statement-breakpoint
ALTER TABLE `grants` DROP COLUMN `kinds`;--> statement-breakpoint
ALTER TABLE `grants` DROP COLUMN `tables`;
