"use client";

import { useActionState, useState } from "react";
import type { ExplainResult } from "@/app/(console)/policy/actions";
import { ExplanationView } from "./explanation-view";

export interface KnownAgent {
  id: string;
  groups: string[];
}

export function ExplainForm({
  action,
  agents,
  resources,
}: {
  action: (previous: ExplainResult | undefined, form: FormData) => Promise<ExplainResult>;
  agents: KnownAgent[];
  resources: string[];
}) {
  const [result, submit, pending] = useActionState(action, undefined);
  const [agent, setAgent] = useState(agents[0]?.id ?? "");
  const [groups, setGroups] = useState(agents[0]?.groups.join(", ") ?? "");
  // Controlled, so the form keeps what was typed after each explanation (React resets forms after an action).
  const [resource, setResource] = useState(resources[0] ?? "");
  const [sql, setSql] = useState("");

  return (
    <div className="explain">
      <form action={submit} className="explain-form">
        <div className="field">
          <label htmlFor="explain-agent">Agent</label>
          <input
            id="explain-agent"
            name="agent"
            list="explain-agents"
            value={agent}
            onChange={(e) => {
              setAgent(e.target.value);
              const known = agents.find((a) => a.id === e.target.value);
              if (known) setGroups(known.groups.join(", "));
            }}
          />
          <datalist id="explain-agents">
            {agents.map((a) => (
              <option key={a.id} value={a.id} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="explain-groups">Groups</label>
          <input id="explain-groups" name="groups" value={groups} onChange={(e) => setGroups(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="explain-resource">Resource</label>
          <select id="explain-resource" name="resource" value={resource} onChange={(e) => setResource(e.target.value)}>
            {resources.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </div>
        <div className="field field-wide">
          <label htmlFor="explain-sql">SQL</label>
          <textarea
            id="explain-sql"
            name="sql"
            rows={4}
            spellCheck={false}
            value={sql}
            onChange={(e) => setSql(e.target.value)}
            placeholder="UPDATE orders SET status = 'shipped' WHERE id = 1"
          />
        </div>
        <button className="button button-primary" type="submit" disabled={pending}>
          {pending ? "Explaining…" : "Explain"}
        </button>
      </form>
      {result && !result.ok && (
        <p className="alert" role="alert">
          {result.error}
        </p>
      )}
      {result?.ok && <ExplanationView explanation={result.explanation} />}
    </div>
  );
}
