import type { Metadata } from "next";
import { LiveRefresh } from "@/components/live/live-refresh";
import { ExplainForm } from "@/components/policy/explain-form";
import { RulesTable } from "@/components/policy/rules-table";
import { YamlView } from "@/components/policy/yaml-view";
import { PageTitle } from "@/components/ui/page-title";
import { TimeAgo } from "@/components/ui/time-ago";
import { SEED_AGENTS } from "@/idp/seed";
import { knownAgents } from "@/lib/activity/queries";
import { requirePerson } from "../../current-person";
import { explainStatement } from "./actions";

export const metadata: Metadata = { title: "Policy" };
export const dynamic = "force-dynamic";

export default async function PolicyPage() {
  const { rt } = await requirePerson();
  const { status, current } = { status: rt.policy.status, current: rt.policy.current };
  const seen = await knownAgents(rt.store);
  const agents = rt.sso.development ? [...SEED_AGENTS.filter((a) => !seen.some((s) => s.id === a.id)), ...seen] : seen;
  const errorLine = status.error ? Number(/:(\d+):/.exec(status.error.message)?.[1]) || undefined : undefined;
  const now = new Date();

  return (
    <>
      <LiveRefresh on={["policy.changed"]} />
      <PageTitle title="Policy" description="Rules that decide what agents may do; read-only here, edited as code" />
      <section className="section" aria-labelledby="policy-status">
        <h2 id="policy-status">
          {status.file}
          <span className={`badge ${status.error ? "badge-danger" : "badge-approver"}`} data-testid="policy-state">
            {status.error ? "last edit not loaded" : "loaded"}
          </span>
        </h2>
        <p className="muted">
          In force since <TimeAgo at={status.loadedAt} now={now} /> · sha256 {status.hash.slice(0, 12)} · {current.rules.length} rules ·{" "}
          {current.resources.size} resources
        </p>
        {status.error && (
          <div className="alert" role="alert" data-testid="policy-error">
            The edit of <TimeAgo at={status.error.at} now={now} /> did not load, so the previous policy is still in force:
            <pre>{status.error.message}</pre>
          </div>
        )}
      </section>
      <section className="section" aria-labelledby="explain-title">
        <h2 id="explain-title">Explain</h2>
        <ExplainForm action={explainStatement} agents={agents} resources={[...current.resources.keys()]} />
      </section>
      <section className="section" aria-labelledby="rules-title">
        <h2 id="rules-title">Rules, in order</h2>
        <RulesTable rules={current.rules} />
      </section>
      <section className="section" aria-labelledby="file-title">
        <h2 id="file-title">The file in force</h2>
        <YamlView text={status.text} errorLine={errorLine} />
      </section>
    </>
  );
}
