import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** Liveness for load balancers and scripts; the shape is a contract (DESIGN.md). */
export function GET() {
  const rt = getRuntime();
  return Response.json({ ok: true, proxy: rt.proxy, issuer: rt.agentIssuer, version: rt.version });
}
