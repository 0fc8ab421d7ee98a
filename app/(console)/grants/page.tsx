import type { Metadata } from "next";
import { EmptyState } from "@/components/ui/empty-state";
import { PageTitle } from "@/components/ui/page-title";

export const metadata: Metadata = { title: "Grants" };

export default function GrantsPage() {
  return (
    <>
      <PageTitle title="Grants" description="Time-boxed access people have approved" />
      <EmptyState title="No active grants">Approving a request for a duration creates a grant; it is listed here with its countdown and a Revoke button.</EmptyState>
    </>
  );
}
