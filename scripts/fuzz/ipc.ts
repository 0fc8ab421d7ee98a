/** The messages between the fuzzer and the proxy process it drives. */

export type ChildRequest = { type: "token"; id: number; agent: string } | { type: "stats"; id: number } | { type: "close"; id: number };

export interface ProxyStats {
  heapUsed: number;
  rss: number;
  external: number;
  liveSessions: number;
  connections: number;
  sessionsStarted: number;
  sessionsEnded: number;
  /** Sessions whose start or end was recorded more than once. */
  recordedTwice: number;
  endedNotStarted: number;
  pendingRequests: number;
  decided: number;
  /** console.error lines of the proxy, counted by their first words. */
  errorLines: Record<string, number>;
  faults: number;
}

export type ChildReport =
  | { type: "ready"; port: number }
  | { type: "fault"; text: string }
  | { type: "token"; id: number; token: string }
  | ({ type: "stats"; id: number } & ProxyStats)
  | { type: "closed"; id: number };
