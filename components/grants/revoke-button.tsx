"use client";

import { useActionState } from "react";
import type { RevokeResult } from "@/app/(console)/grants/actions";

export function RevokeButton({ grantId, action }: { grantId: string; action: (previous: RevokeResult | undefined, form: FormData) => Promise<RevokeResult> }) {
  const [result, submit, pending] = useActionState(action, undefined);
  return (
    <form action={submit}>
      <input type="hidden" name="grantId" value={grantId} />
      <button className="button button-danger" type="submit" disabled={pending}>
        Revoke
      </button>
      {result && !result.ok && <span className="alert" role="alert">{result.error}</span>}
    </form>
  );
}
