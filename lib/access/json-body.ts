/** Agent API request bodies larger than this are refused unread: an ask is a few hundred bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

export type JsonBody = { ok: true; body: unknown } | { ok: false; status: 400 | 413 | 415; code: string; message: string };

/**
 * A JSON body of bounded size. The size is checked from Content-Length and again while reading,
 * so a body without one (chunked) or lying about it is cut off at the limit, never buffered whole.
 */
export async function readJsonBody(request: Request, limit = MAX_BODY_BYTES): Promise<JsonBody> {
  const mediaType = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (mediaType !== "application/json") return { ok: false, status: 415, code: "unsupported_media_type", message: "send JSON with Content-Type: application/json" };
  const tooLarge = { ok: false, status: 413, code: "too_large", message: `the body is larger than ${limit} bytes` } as const;
  if (Number(request.headers.get("content-length") ?? 0) > limit) return tooLarge;
  const text = await readBounded(request, limit);
  if (text === undefined) return tooLarge;
  try {
    return { ok: true, body: JSON.parse(text) };
  } catch {
    return { ok: false, status: 400, code: "invalid_request", message: "the body is not valid JSON" };
  }
}

async function readBounded(request: Request, limit: number): Promise<string | undefined> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(Buffer.concat(chunks));
}
