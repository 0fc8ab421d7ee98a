import type { JWTPayload } from "jose";
import { requiredText, type ClaimMapping } from "../claim-mapping";
import { TokenError } from "../token-error";

const SHAPE = "a Kubernetes service-account token";

/** `system:serviceaccount:NAMESPACE:NAME`, as the API server writes a service account's subject. */
const SERVICE_ACCOUNT_SUBJECT = /^system:serviceaccount:([^:]+):([^:]+)$/;

/**
 * A projected (bound) service-account token. The agent id is the subject,
 * `system:serviceaccount:NAMESPACE:NAME`, the name Kubernetes RBAC knows the account by; the
 * groups are the ones Kubernetes itself gives it, `system:serviceaccounts` and
 * `system:serviceaccounts:NAMESPACE`. The `kubernetes.io` claim must agree with the subject: only
 * the API server's bound tokens carry it (a token of another shape that happens to be signed by the
 * cluster's key does not pass). `namespaces`, when given, limits which namespaces' accounts may connect.
 * The issuer entry's name is put before the id and groups, so two clusters' `etl:reporter` differ.
 */
export function kubernetesMapping(namespaces?: readonly string[]): ClaimMapping {
  return (claims) => {
    const match = SERVICE_ACCOUNT_SUBJECT.exec(requiredText(claims, "sub", SHAPE));
    if (!match) throw new TokenError("claims", `token is not ${SHAPE}: "sub" is not system:serviceaccount:NAMESPACE:NAME`);
    const [, namespace, name] = match;
    const bound = boundAccount(claims);
    if (bound?.namespace !== namespace || bound.name !== name) {
      throw new TokenError("claims", `token is not ${SHAPE}: its "kubernetes.io" claim does not name the subject's namespace and service account`);
    }
    if (namespaces && !namespaces.includes(namespace)) {
      throw new TokenError("not-allowed", `namespace ${namespace} is not allowed to connect (namespaces of its issuer entry)`);
    }
    return { agentId: `system:serviceaccount:${namespace}:${name}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`] };
  };
}

/** `{"kubernetes.io": {"namespace": …, "serviceaccount": {"name": …}}}` from the TokenRequest API. */
function boundAccount(claims: JWTPayload): { namespace: unknown; name: unknown } | undefined {
  const k8s = claims["kubernetes.io"];
  if (typeof k8s !== "object" || k8s === null) return undefined;
  const { namespace, serviceaccount } = k8s as { namespace?: unknown; serviceaccount?: unknown };
  const name = typeof serviceaccount === "object" && serviceaccount !== null ? (serviceaccount as { name?: unknown }).name : undefined;
  return { namespace, name };
}
