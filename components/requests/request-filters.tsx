const STATUSES = ["decided", "approved", "denied", "expired", "cancelled"];

/** Filters for past requests: a plain GET form, so a filtered view has its own URL. */
export function RequestFilters({ status, agent, resource, agents, resources }: { status?: string; agent?: string; resource?: string; agents: string[]; resources: string[] }) {
  return (
    <form className="filters" method="get" aria-label="Filter past requests">
      <Choice label="Status" name="status" value={status ?? "decided"} options={STATUSES.map((s) => [s, s === "decided" ? "all decided" : s])} />
      <Choice label="Agent" name="agent" value={agent ?? ""} options={[["", "any"], ...agents.map((a): [string, string] => [a, a])]} />
      <Choice label="Resource" name="resource" value={resource ?? ""} options={[["", "any"], ...resources.map((r): [string, string] => [r, r])]} />
      <button className="button" type="submit">
        Filter
      </button>
    </form>
  );
}

function Choice({ label, name, value, options }: { label: string; name: string; value: string; options: Array<[value: string, text: string]> }) {
  return (
    <label>
      {label}
      <select name={name} defaultValue={value}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}
