import type { types } from "@slack/bolt";
import { previewLines } from "../approvals/preview/lines";
import type { ImpactPreview } from "../approvals/preview/types";
import { clipEscaped, mrkdwn } from "./mrkdwn";

/** The preview's lines in a message: what an approver weighs before pressing a button. */
export const PREVIEW_CHARS = 1_500;

/** A held request's impact preview (lib/approvals/preview) as one section of its message; the sample rows stay on the request page. */
export function previewSection(preview: ImpactPreview): types.SectionBlock {
  return { type: "section", text: mrkdwn(`*Impact*\n${clipEscaped(previewLines(preview).join("\n"), PREVIEW_CHARS).text}`) };
}
