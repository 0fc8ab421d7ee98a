import type { DayOfRequests, HourOfStatements, Ranked, RequestOutcome, StatementDecision } from "@/lib/audit/stats";
import type { ChartSeries } from "./chart-types";
import { formatCount, formatDuration } from "./format";
import { RankedBarChart } from "./ranked-bar-chart";
import { StackedBarChart } from "./stacked-bar-chart";

const DECISION_SERIES: Array<ChartSeries & { key: StatementDecision }> = [
  { key: "allowed", label: "allowed", className: "chart-allowed" },
  { key: "masked", label: "masked", className: "chart-masked" },
  { key: "held", label: "held", className: "chart-held" },
  { key: "refused", label: "refused", className: "chart-refused" },
];

const OUTCOME_SERIES: Array<ChartSeries & { key: RequestOutcome }> = [
  { key: "approved", label: "approved", className: "chart-allowed" },
  { key: "denied", label: "denied", className: "chart-refused" },
  { key: "expired", label: "expired", className: "chart-expired" },
  { key: "cancelled", label: "cancelled", className: "chart-cancelled" },
  { key: "pending", label: "pending", className: "chart-held" },
];

/** Where the time-to-decision axis may top out, so its gridlines read 30 s, 5 min, 1 h… */
const DURATION_STEPS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400].map((s) => s * 1000);

const hour = (d: Date) => d.toISOString().slice(11, 16);
const day = (d: Date) => d.toISOString().slice(0, 10);

/** The audit overview: what agents ran in the last day, how requests went, who and what was busiest. */
export function AuditOverview({ hours, days, agents, tables }: { hours: HourOfStatements[]; days: DayOfRequests[]; agents: Ranked[]; tables: Ranked[] }) {
  const statements = hours.reduce((sum, h) => sum + DECISION_SERIES.reduce((s, d) => s + h.counts[d.key], 0), 0);
  const refused = hours.reduce((sum, h) => sum + h.counts.refused, 0);
  const requests = days.reduce((sum, d) => sum + OUTCOME_SERIES.reduce((s, o) => s + d.counts[o.key], 0), 0);
  const medians = days.filter((d) => d.medianDecisionMs !== null);
  return (
    <div className="audit-overview">
      <StackedBarChart
        id="statements-per-hour"
        title="Statements per hour, last 24 hours (UTC)"
        summary={`${formatCount(statements)} statements in the last 24 hours, ${formatCount(refused)} of them refused.`}
        series={DECISION_SERIES}
        bars={hours.map((h) => ({ label: hour(h.start), fullLabel: `${day(h.start)} ${hour(h.start)} UTC`, values: h.counts }))}
        labelEvery={3}
        rowHeader="Hour"
      />
      <StackedBarChart
        id="requests-per-day"
        title="Requests per day, last 14 days"
        summary={`${formatCount(requests)} requests opened in the last 14 days.`}
        series={OUTCOME_SERIES}
        bars={days.map((d) => ({ label: day(d.start).slice(5), fullLabel: day(d.start), values: d.counts }))}
        labelEvery={2}
        rowHeader="Day"
      />
      <StackedBarChart
        id="time-to-decision"
        title="Median time to decision, by day opened"
        summary={
          medians.length > 0
            ? `Median time from a request to its outcome, per day; the last day with decisions: ${formatDuration(medians[medians.length - 1].medianDecisionMs ?? 0)}.`
            : "No request was decided in the last 14 days."
        }
        series={[{ key: "median", label: "median", className: "chart-masked" }]}
        bars={days.map((d) => ({ label: day(d.start).slice(5), fullLabel: day(d.start), values: d.medianDecisionMs === null ? ({} as Record<string, number>) : { median: d.medianDecisionMs } }))}
        labelEvery={2}
        rowHeader="Day"
        formatValue={formatDuration}
        axisSteps={DURATION_STEPS}
      />
      <RankedBarChart
        id="top-agents"
        title="Top agents, last 7 days"
        summary={agents.length > 0 ? `${agents[0].name} sent the most statements: ${formatCount(agents[0].count)}.` : "No statements in the last 7 days."}
        items={agents}
        rowHeader="Agent"
        unit="statements"
      />
      <RankedBarChart
        id="top-tables"
        title="Top tables, last 7 days"
        summary={tables.length > 0 ? `${tables[0].name} was touched most: by ${formatCount(tables[0].count)} statements.` : "No tables touched in the last 7 days."}
        items={tables}
        rowHeader="Table"
        unit="statements"
      />
    </div>
  );
}
