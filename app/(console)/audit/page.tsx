import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/empty-state";
import { PageTitle } from "@/components/ui/page-title";

export const metadata: Metadata = { title: "Audit" };

export default function AuditPage() {
  return (
    <>
      <PageTitle title="Audit" description="Every connection, statement and decision" />
      <EmptyState title="Nothing recorded yet">Sessions, statements, requests and decisions are recorded here, in a tamper-evident chain.</EmptyState>
    </>
  );
}
