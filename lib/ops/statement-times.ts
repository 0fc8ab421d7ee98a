import type { Metric, Registry } from "prom-client";

/** A line of a histogram as prom-client's registry writes one. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** A statement's times: Airlock's own is tens of microseconds, a database's from under a millisecond to seconds. */
export const STATEMENT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One resource's statement times: looked up once per session, then two observations per statement. */
export interface StatementTimer {
  /** A statement that went to the server: `upstreamMs` from sending it to its last answer, `proxyMs` Airlock's own time before that (less any hold). */
  observe(upstreamMs: number, proxyMs: number): void;
}

/**
 * One histogram's counts for one resource: plain numbers, so an observation allocates nothing.
 * (prom-client's labelled observe() builds a labels object and a hash string each time: ~0.7 µs,
 * against ~20 ns here, on a path whose whole CPU budget is ~100 µs.) `counts[i]`: observations in
 * bucket i alone (cumulated when scraped); the last is above every bound.
 */
class Cell {
  readonly counts = new Float64Array(STATEMENT_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < STATEMENT_BUCKETS.length && seconds > STATEMENT_BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * `airlock_statement_upstream_seconds{resource}` and `airlock_statement_proxy_seconds{resource}`,
 * kept as plain counts per resource and written out as prom-client histograms when scraped.
 */
export class StatementTimes {
  readonly #upstream = new Map<string, Cell>();
  readonly #proxy = new Map<string, Cell>();
  readonly #timers = new Map<string, StatementTimer>();

  constructor(registry: Registry) {
    registry.registerMetric(
      histogram(
        "airlock_statement_upstream_seconds",
        "Statements run: from handing one to the database (queued behind any the session pipelined before it) to relaying its last answer (the database's time, with the relaying and masking of its rows), by resource.",
        this.#upstream,
      ),
    );
    registry.registerMetric(
      histogram("airlock_statement_proxy_seconds", "Statements run: Airlock's own time before the database got them (reading, classifying, deciding), without any wait for approval, by resource.", this.#proxy),
    );
  }

  /** The timer for one resource (cached: one per resource, whatever the number of sessions). */
  timer(resource: string): StatementTimer {
    let timer = this.#timers.get(resource);
    if (!timer) {
      const upstream = cell(this.#upstream, resource);
      const proxy = cell(this.#proxy, resource);
      timer = {
        observe(upstreamMs, proxyMs) {
          upstream.observe(upstreamMs / 1000);
          // Clock readings a hair apart never make a negative time.
          proxy.observe(proxyMs > 0 ? proxyMs / 1000 : 0);
        },
      };
      this.#timers.set(resource, timer);
    }
    return timer;
  }
}

function cell(cells: Map<string, Cell>, resource: string): Cell {
  let found = cells.get(resource);
  if (!found) cells.set(resource, (found = new Cell()));
  return found;
}

/** A metric as prom-client's registry reads one (name, help, type, get, reset), over `cells`. */
function histogram(name: string, help: string, cells: Map<string, Cell>): Metric {
  const metric = {
    name,
    help,
    type: "histogram",
    aggregator: "sum",
    get: async () => {
      const values: Sample[] = [];
      for (const [resource, { counts, sum, count }] of cells) {
        let cumulative = 0;
        for (let i = 0; i < counts.length; i++) {
          cumulative += counts[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { le: i < STATEMENT_BUCKETS.length ? STATEMENT_BUCKETS[i]! : "+Inf", resource }, value: cumulative });
        }
        values.push({ metricName: `${name}_sum`, labels: { resource }, value: sum });
        values.push({ metricName: `${name}_count`, labels: { resource }, value: count });
      }
      return { name, help, type: "histogram", aggregator: "sum", values };
    },
    reset: () => {
      for (const c of cells.values()) {
        c.counts.fill(0);
        c.sum = 0;
        c.count = 0;
      }
    },
  };
  // Not one of prom-client's classes, but what its registry asks of one.
  return metric as unknown as Metric;
}
