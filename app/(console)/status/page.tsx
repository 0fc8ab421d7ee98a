import path from "node:path";
import type { Metadata } from "next";
import { LiveRefresh } from "@/components/live/live-refresh";
import { PageTitle } from "@/components/ui/page-title";
import { ChainSummary } from "@/components/status/chain-summary";
import { InstancesTable } from "@/components/status/instances-table";
import { PolicyFacts } from "@/components/status/policy-facts";
import { ResourcesTable } from "@/components/status/resources-table";
import { SlackFacts } from "@/components/status/slack-facts";
import { StoreFacts } from "@/components/status/store-facts";
import { WebhooksTable } from "@/components/status/webhooks-table";
import { gatherStatus } from "@/lib/ops/status";
import { requirePerson } from "../../current-person";

export const metadata: Metadata = { title: "Status" };
export const dynamic = "force-dynamic";

export default async function StatusPage() {
  const { rt } = await requirePerson("ops.status");
  const status = await gatherStatus({
    store: rt.store,
    dataDir: rt.config.dataDir,
    policy: rt.policy,
    catalog: (resource) => rt.classifiers.snapshot(resource),
    reach: rt.reach,
    slack: rt.config.slack,
    currentInstanceId: rt.instances.instance.id,
    // `npm start` runs from the checkout, where server.ts applies these at start.
    migrationsFolder: path.join(process.cwd(), "drizzle"),
  });
  const now = status.at;
  const { instances } = status;

  return (
    <>
      <LiveRefresh on={["policy.changed", "session.opened", "session.closed"]} />
      <PageTitle title="Status" description="What to check first: targets, store, Slack, webhooks, instances, policy and the audit chain" />
      <section className="section" aria-labelledby="status-resources">
        <h2 id="status-resources">
          Resources <span className="count">{status.resources.length}</span>
        </h2>
        <ResourcesTable resources={status.resources} now={now} />
      </section>
      <section className="section" aria-labelledby="status-store-title">
        <h2 id="status-store-title">Store</h2>
        <StoreFacts store={status.store} />
      </section>
      <section className="section" aria-labelledby="status-instances">
        <h2 id="status-instances">
          Instances on this store {instances.ok && <span className="count">{instances.value.filter((i) => i.alive).length}</span>}
        </h2>
        {instances.ok ? <InstancesTable instances={instances.value} now={now} /> : <p className="alert">The instances could not be read: {instances.error}</p>}
      </section>
      <section className="section" aria-labelledby="status-slack-title">
        <h2 id="status-slack-title">Slack</h2>
        <SlackFacts slack={status.slack} now={now} />
      </section>
      <section className="section" aria-labelledby="status-webhooks-title">
        <h2 id="status-webhooks-title">Webhooks</h2>
        {status.webhooks.ok ? <WebhooksTable webhooks={status.webhooks.value} now={now} /> : <p className="alert">Webhook deliveries could not be read: {status.webhooks.error}</p>}
      </section>
      <section className="section" aria-labelledby="status-policy-title">
        <h2 id="status-policy-title">Policy in force</h2>
        <PolicyFacts policy={status.policy} now={now} />
      </section>
      <section className="section" aria-labelledby="status-chain-title">
        <h2 id="status-chain-title">Audit chain</h2>
        <ChainSummary chain={status.chain} now={now} />
      </section>
    </>
  );
}
