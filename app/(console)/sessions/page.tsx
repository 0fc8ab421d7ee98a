import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/empty-state";
import { PageTitle } from "@/components/ui/page-title";

export const metadata: Metadata = { title: "Sessions" };

export default function SessionsPage() {
  return (
    <>
      <PageTitle title="Sessions" description="Agent connections through the proxy" />
      <EmptyState title="No agent sessions yet">Live connections and their recent statements appear here as agents connect.</EmptyState>
    </>
  );
}
