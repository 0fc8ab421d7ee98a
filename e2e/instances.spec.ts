import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import pg from "pg";
import { startAirlock, type RunningAirlock } from "../test/support/airlock-server";
import { adminQuery, startPostgres, type TestPostgres } from "../test/support/postgres";
import { agentToken, proxyPort } from "../test/support/server-agent";
import { createStoreDatabase } from "../test/support/store";
import { makeTempDir } from "../test/support/temp-dir";
import { RequestsPage } from "./pages/requests-page";
import { signedInPerson } from "./support/person";

/**
 * Two instances on one PostgreSQL store (issue 16): alice, signed in on instance B, approves in
 * her browser what an agent connected to instance A waits for, and the agent's UPDATE completes.
 */
test.describe("two instances on one PostgreSQL store", () => {
  test.describe.configure({ mode: "serial" });
  const dir = makeTempDir("e2e-instances");
  let server: TestPostgres;
  let a: RunningAirlock;
  let b: RunningAirlock;

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    server = await startPostgres();
    await adminQuery(server, "create table orders (id int primary key, status text); insert into orders select g, 'new' from generate_series(1, 10) g");
    const policy = path.join(dir.path, "airlock.policy.yaml");
    fs.writeFileSync(
      policy,
      [
        "resources:",
        `  shop: { type: postgres, url: "${server.url}" }`,
        "rules:",
        "  - { name: agents-read, match: { groups: [agents], kinds: [select] }, action: allow }",
        "  - { name: agents-write, match: { groups: [agents], kinds: [update] }, action: review, review: { approvers: [db-approvers] } }",
        "",
      ].join("\n"),
    );
    const shared = { AIRLOCK_POLICY: policy, AIRLOCK_STORE_URL: await createStoreDatabase(server) };
    a = await startAirlock({ dataDir: path.join(dir.path, "a"), env: { ...shared, AIRLOCK_INSTANCE_NAME: "instance-a" } });
    b = await startAirlock({ dataDir: path.join(dir.path, "b"), env: { ...shared, AIRLOCK_INSTANCE_NAME: "instance-b", AGENT_OIDC_ISSUER: `${a.url}/oidc`, AGENT_CLIENT_IDS: "reporting-agent,ops-agent" } });
  });

  test.afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await server?.stop();
    dir.remove();
  });

  test("alice signed in on B approves what an agent on A waits for; the agent's UPDATE completes", async ({ browser }) => {
    const { context, page } = await signedInPerson(browser, b.url, "alice@example.com");
    const agent = new pg.Client({ host: "127.0.0.1", port: await proxyPort(a), user: "reporting-agent", password: await agentToken(a), database: "shop" });
    await agent.connect();
    try {
      const running = agent.query("update orders set status = 'shipped' where id = 7 /* from-instance-a */");
      const queue = new RequestsPage(page);
      await expect(queue.request("from-instance-a")).toBeVisible();
      await queue.open("from-instance-a");
      await queue.decide("Approve once");
      await expect(page.getByTestId("request-status")).toHaveText("approved");
      expect((await running).rowCount).toBe(1);
      expect((await agent.query("select status from orders where id = 7")).rows[0].status).toBe("shipped");
    } finally {
      await agent.end();
      await context.close();
    }
  });
});
