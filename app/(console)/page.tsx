import type { Metadata } from "next";
import { ConnectAgentGuide } from "@/components/requests/connect-agent-guide";
import { PageTitle } from "@/components/ui/page-title";
import { getRuntime } from "@/lib/runtime";

export const metadata: Metadata = { title: "Requests" };

export default function RequestsPage() {
  const { proxy, sso } = getRuntime();
  return (
    <>
      <PageTitle title="Requests" description="Statements and access waiting for a decision" />
      <ConnectAgentGuide proxyHost={proxy.host} proxyPort={proxy.port} development={sso.development} />
    </>
  );
}
