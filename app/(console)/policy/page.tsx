import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/empty-state";
import { PageTitle } from "@/components/ui/page-title";

export const metadata: Metadata = { title: "Policy" };

export default function PolicyPage() {
  return (
    <>
      <PageTitle title="Policy" description="Rules that decide what agents may do" />
      <EmptyState title="No policy loaded">The policy file decides what is allowed, masked, refused or held; it is shown here with an explain box.</EmptyState>
    </>
  );
}
