/**
 * The fuzz run's policy: reads allowed and masked, writes and schema changes held for review
 * (short timeout, so nothing waits long), admin and privilege denied, everything else denied by
 * no match.
 */
export const FUZZ_RULES = `rules:
  - name: never
    match: { kinds: [admin, privilege] }
    action: deny
  - name: never-functions
    match: { functions: [pg_read_file, pg_ls_dir, set_config] }
    action: deny
  - name: agents-read
    match: { groups: [agents], kinds: [select] }
    action: allow
    mask: { columns: ["customers.email", "*.card_number", "*.ssn"], detect: [email, card, ssn] }
  - name: agents-write
    match: { groups: [agents], kinds: [insert, update, delete, copy_in] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 15s, grants: [once, 1m] }
  - name: schema-changes
    match: { kinds: [ddl, truncate] }
    action: review
    review: { approvers: [db-approvers], count: 1, timeout: 15s }`;
