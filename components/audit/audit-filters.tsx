import Link from "next/link";
import type { AuditFilters } from "@/lib/audit/filters";

export interface AuditFilterChoices {
  types: readonly string[];
  kinds: readonly string[];
  decisions: readonly string[];
  agents: readonly string[];
  people: readonly string[];
  resources: readonly string[];
}

/** `datetime-local` wants `2026-01-31T14:05:09`; the page reads it back as UTC. */
function inputTime(at: Date | undefined): string {
  return at ? at.toISOString().slice(0, 19) : "";
}

/**
 * The filters as a plain GET form: each filtered view has its own URL, works without scripts,
 * and "older" pages keep the filters. A request, grant or session narrowed to from a record is
 * carried along and can be dropped.
 */
export function AuditFiltersForm({ filters, choices }: { filters: AuditFilters; choices: AuditFilterChoices }) {
  const pinned = (["request", "grant", "session"] as const).filter((key) => filters[key]);
  return (
    <form className="audit-filters" method="get" action="/audit" aria-label="Filter the audit log">
      <Field label="From (UTC)" name="from" type="datetime-local" step={1} value={inputTime(filters.from)} />
      <Field label="To (UTC)" name="to" type="datetime-local" step={1} value={inputTime(filters.to)} />
      <Field label="Agent" name="agent" value={filters.agent} list="audit-agents" />
      <Field label="Person" name="person" value={filters.person} list="audit-people" />
      <Field label="Resource" name="resource" value={filters.resource} list="audit-resources" />
      <Choice label="Event" name="type" value={filters.type} options={choices.types} />
      <Choice label="Kind" name="kind" value={filters.kind} options={choices.kinds} />
      <Choice label="Decision" name="decision" value={filters.decision} options={choices.decisions} />
      <Field label="Table" name="table" value={filters.table} placeholder="orders or public.orders" />
      <Field label="SQL contains" name="q" value={filters.q} wide />
      {pinned.map((key) => (
        <input key={key} type="hidden" name={key} value={filters[key]} />
      ))}
      <div className="audit-filter-actions">
        <button className="button button-primary" type="submit">
          Filter
        </button>
        <Link className="button" href="/audit">
          Clear
        </Link>
        {pinned.map((key) => (
          <span key={key} className="kind" data-testid="audit-pinned">
            {key} {filters[key]}
          </span>
        ))}
      </div>
      <DataList id="audit-agents" values={choices.agents} />
      <DataList id="audit-people" values={choices.people} />
      <DataList id="audit-resources" values={choices.resources} />
    </form>
  );
}

function Field(props: { label: string; name: string; value?: string; type?: string; step?: number; list?: string; placeholder?: string; wide?: boolean }) {
  return (
    <div className={props.wide ? "audit-filter audit-filter-wide" : "audit-filter"}>
      <label htmlFor={`audit-filter-${props.name}`}>{props.label}</label>
      <input
        id={`audit-filter-${props.name}`}
        name={props.name}
        type={props.type ?? "search"}
        step={props.step}
        defaultValue={props.value ?? ""}
        list={props.list}
        placeholder={props.placeholder}
        maxLength={200}
        autoComplete="off"
      />
    </div>
  );
}

function Choice({ label, name, value, options }: { label: string; name: string; value?: string; options: readonly string[] }) {
  return (
    <div className="audit-filter">
      <label htmlFor={`audit-filter-${name}`}>{label}</label>
      <select id={`audit-filter-${name}`} name={name} defaultValue={value ?? ""}>
        <option value="">any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

function DataList({ id, values }: { id: string; values: readonly string[] }) {
  return (
    <datalist id={id}>
      {values.map((v) => (
        <option key={v} value={v} />
      ))}
    </datalist>
  );
}
