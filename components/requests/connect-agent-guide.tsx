/** The request queue's empty state: the shortest path from nothing to a first held statement. */
export function ConnectAgentGuide({ proxyHost, proxyPort, development }: { proxyHost: string; proxyPort: number; development: boolean }) {
  const dsn = `postgres://reporting-agent:$TOKEN@${proxyHost}:${proxyPort}/demo`;
  return (
    <section className="panel empty" aria-labelledby="empty-queue-title">
      <h2 id="empty-queue-title">No requests waiting</h2>
      <p>When an agent sends a statement that policy says needs review, it waits here until someone decides.</p>
      <ol className="steps">
        <li>
          <p>Give the agent its own identity: an access token from your identity provider{development ? ", here the development one" : ""}.</p>
          <pre>
            <code>{development ? "TOKEN=$(npx airlock token reporting-agent)" : "TOKEN=<the agent's OIDC access token>"}</code>
          </pre>
        </li>
        <li>
          <p>Connect with any Postgres client. The token is the password; Airlock holds the real credentials.</p>
          <pre>
            <code>psql &quot;{dsn}&quot;</code>
          </pre>
        </li>
        <li>
          <p>Run a write such as <code>UPDATE orders SET status = &apos;shipped&apos; WHERE id = 1;</code> and it appears here for approval.</p>
        </li>
      </ol>
    </section>
  );
}
