const STATUSES = ["decided", "approved", "denied", "expired", "cancelled"] as const;

/** Filters for past requests: a plain GET form, so a filtered view has its own URL. */
export function RequestFilters({ status, agent, resource, agents, resources }: { status?: string; agent?: string; resource?: string; agents: string[]; resources: string[] }) {
  return (
    <form className="filters" method="get" aria-label="Filter past requests">
      <label>
        Status
        <select name="status" defaultValue={status ?? "decided"}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s === "decided" ? "all decided" : s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Agent
        <select name="agent" defaultValue={agent ?? ""}>
          <option value="">any</option>
          {agents.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
      </label>
      <label>
        Resource
        <select name="resource" defaultValue={resource ?? ""}>
          <option value="">any</option>
          {resources.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <button className="button" type="submit">
        Filter
      </button>
    </form>
  );
}
