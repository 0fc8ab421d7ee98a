import type { ReactNode } from "react";

export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="panel empty">
      <h2>{title}</h2>
      <p>{children}</p>
    </section>
  );
}
