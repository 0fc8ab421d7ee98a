import { getRuntime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** Readiness for load balancers and orchestrators: 200 only when the store, the policy and the proxy are up. */
export async function GET() {
  const readiness = await getRuntime().readiness();
  return Response.json(readiness, { status: readiness.ready ? 200 : 503, headers: { "cache-control": "no-store" } });
}
