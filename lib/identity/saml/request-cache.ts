import type { CacheItem, CacheProvider } from "@node-saml/node-saml";
import type { OneTimeValues } from "./one-time";

/**
 * How long a person may take at their IdP between leaving Airlock and coming back: signing in,
 * perhaps a second factor. A response to an older AuthnRequest is refused.
 */
export const REQUEST_TTL_MS = 10 * 60_000;

/**
 * node-saml's InResponseTo cache, kept in the store: an AuthnRequest sent by one instance may be
 * answered through another, and its id is forgotten once answered (node-saml removes it).
 */
export function requestIdCache(values: OneTimeValues, now: () => number = Date.now): CacheProvider {
  const key = (id: string) => `request:${id}`;
  return {
    async saveAsync(id: string, value: string): Promise<CacheItem | null> {
      const createdAt = now();
      return (await values.add(key(id), value, new Date(createdAt + REQUEST_TTL_MS))) ? { value, createdAt } : null;
    },
    async getAsync(id: string): Promise<string | null> {
      return (await values.get(key(id))) ?? null;
    },
    async removeAsync(id: string | null): Promise<string | null> {
      if (id === null) return null;
      await values.remove(key(id));
      return id;
    },
  };
}
