import type { Role } from "@/lib/identity/roles";

export function RoleBadge({ role }: { role: Role }) {
  return (
    <span className={`badge badge-${role}`} data-testid="role">
      {role}
    </span>
  );
}
