import type { ReactNode } from "react";
import "./audit.css";

/** The audit pages share their styles (table, filters, charts); nothing else of theirs is shared. */
export default function AuditLayout({ children }: { children: ReactNode }) {
  return children;
}
