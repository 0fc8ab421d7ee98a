import fs from "node:fs";
import { expect, test } from "./fixtures";
import { PolicyPage } from "./pages/policy-page";

// The second test edits the policy file the first one reads.
test.describe.configure({ mode: "serial" });

test("the explain box says which rule decides a statement and why", async ({ page, signIn }) => {
  await signIn("carol@example.com");
  const policy = new PolicyPage(page);
  await policy.open();
  await expect(page.getByRole("heading", { level: 1, name: "Policy" })).toBeVisible();
  await expect(policy.state).toHaveText("loaded");
  await expect(page.getByLabel("Policy file")).toContainText("agents-write");

  await policy.explain("reporting-agent", "UPDATE orders SET status = 'shipped' WHERE id = 1");
  await expect(policy.explanation).toContainText("Held for review by rule agents-write");
  await expect(policy.explanation).toContainText("public.orders");
  await expect(policy.explanation).toContainText("Needs 1 approval from db-approvers");

  await policy.explain("reporting-agent", "UPDATE customers SET name = 'x' WHERE id = 1 RETURNING id, ssn");
  await expect(policy.explanation.getByTestId("masking-preview")).toContainText("Once approved, its result is masked");
  await expect(policy.explanation.getByTestId("masking-preview")).toContainText("ssn — masked (from public.customers.ssn)");

  await policy.explain("reporting-agent", "select name, email from customers");
  await expect(policy.explanation).toContainText("Allowed by rule agents-read");
  const preview = policy.explanation.getByTestId("masking-preview");
  await expect(preview).toContainText("Its result is masked (partial; detectors: email, card, ssn, phone, iban)");
  await expect(preview.getByRole("listitem").filter({ hasText: "email" })).toHaveText("email — masked (from public.customers.email)");
  await expect(preview.getByRole("listitem").filter({ hasText: "name" })).toHaveText("name — searched for personal data");

  await policy.explain("ops-agent", "select pg_read_file('/etc/passwd')");
  await expect(policy.explanation).toContainText("Refused by rule never-admin-or-privilege");
});

test("a broken edit is shown and the old policy stays; a good edit replaces it live", async ({ page, signIn }) => {
  const file = process.env.AIRLOCK_E2E_POLICY!;
  const original = fs.readFileSync(file, "utf8");
  await signIn("alice@example.com");
  const policy = new PolicyPage(page);
  await policy.open();
  await expect(policy.state).toHaveText("loaded");
  try {
    fs.writeFileSync(file, original.replace("action: review\n    review: { approvers: [db-approvers], count: 1", "action: perhaps\n    review: { approvers: [db-approvers], count: 1"));
    await expect(policy.state).toHaveText("last edit not loaded");
    await expect(page.getByTestId("policy-error")).toContainText("rules.3.action");
    await policy.explain("reporting-agent", "delete from refunds");
    await expect(policy.explanation).toContainText("Held for review by rule agents-write");

    fs.writeFileSync(file, original.replace("name: agents-write", "name: agents-write-edited"));
    await expect(policy.state).toHaveText("loaded");
    await policy.explain("reporting-agent", "delete from refunds");
    await expect(policy.explanation).toContainText("Held for review by rule agents-write-edited");
  } finally {
    fs.writeFileSync(file, original);
  }
});
