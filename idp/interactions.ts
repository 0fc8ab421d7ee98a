import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import { IDP_PAGE_CSP, renderLoginPage } from "./login-page";
import { verifyPerson } from "./passwords";

const MAX_FORM_BYTES = 8 * 1024;

/** The sign-in step of the authorization flow: GET shows the form, POST checks it. */
export async function handleInteraction(
  provider: Provider,
  req: IncomingMessage,
  res: ServerResponse,
  innerPath: string,
  publicMountPath: string,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const action = `${publicMountPath}${innerPath.split("?")[0].replace(/\/login$/, "")}/login`;
  const clientName = "Airlock";

  if (req.method === "POST" && innerPath.endsWith("/login")) {
    const form = new URLSearchParams(await readBody(req, MAX_FORM_BYTES));
    const email = form.get("email") ?? "";
    const person = verifyPerson(email, form.get("password") ?? "");
    if (!person) {
      return sendHtml(res, 401, renderLoginPage({ action, email, clientName, error: "Wrong email or password." }));
    }
    await provider.interactionFinished(req, res, { login: { accountId: person.email } }, { mergeWithLastSubmission: false });
    return;
  }

  if (details.prompt.name !== "login") {
    // Consent is granted by loadExistingGrant for the first-party dashboard; nothing to ask.
    await provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    return;
  }
  sendHtml(res, 200, renderLoginPage({ action, clientName, email: details.params.login_hint as string | undefined }));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-security-policy": IDP_PAGE_CSP,
  });
  res.end(html);
}

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`form body over ${limit} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
