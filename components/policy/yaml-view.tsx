import type { ReactNode } from "react";

/** The policy file, lightly highlighted (comments, keys, strings), with line numbers. */
export function YamlView({ text, errorLine }: { text: string; errorLine?: number }) {
  return (
    <pre className="yaml" aria-label="Policy file">
      {text.split("\n").map((line, i) => (
        <div key={i} className={i + 1 === errorLine ? "yaml-line yaml-error" : "yaml-line"}>
          <span className="yaml-no" aria-hidden="true">
            {i + 1}
          </span>
          <code>{highlight(line)}</code>
        </div>
      ))}
    </pre>
  );
}

function highlight(line: string): ReactNode[] {
  const comment = commentStart(line);
  const body = comment >= 0 ? line.slice(0, comment) : line;
  const parts: ReactNode[] = [];
  const token = /("(?:[^"\\]|\\.)*"|'[^']*')|([A-Za-z_][\w-]*)(?=\s*:)/g;
  let last = 0;
  for (let m = token.exec(body); m; m = token.exec(body)) {
    parts.push(body.slice(last, m.index));
    parts.push(
      <span key={m.index} className={m[1] ? "yaml-str" : "yaml-key"}>
        {m[0]}
      </span>,
    );
    last = m.index + m[0].length;
  }
  parts.push(body.slice(last));
  if (comment >= 0) parts.push(<span key="c" className="yaml-comment">{line.slice(comment)}</span>);
  return parts;
}

/** Where a `#` comment starts, outside quotes. */
function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]))) return i;
  }
  return -1;
}
