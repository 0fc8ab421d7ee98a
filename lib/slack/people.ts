import type { webApi } from "@slack/bolt";
import type { Decider } from "../approvals/people";
import type { RoleGroups } from "../config";
import { roleForGroups } from "../identity/roles";
import { describeSlackError } from "./retry";

/** What Airlock knows of a person by email: groups from their identity provider. */
export type Directory = (email: string) => Promise<{ email: string; groups: readonly string[] } | undefined>;

/** Slack profiles rarely change; a click should not wait on users.info each time. */
export const PROFILE_CACHE_MS = 10 * 60_000;

export type WhoClicked = { ok: true; person: Decider } | { ok: false; message: string };

/**
 * The Airlock person behind a Slack user: their Slack profile's email (users.info, cached),
 * looked up in what Airlock knows from the identity provider. The role comes from those groups
 * under the current mapping, as on the web; whether they may decide is the approvals service's call.
 */
export class SlackPeople {
  readonly #emails = new Map<string, { email: string; until: number }>();

  constructor(
    private readonly client: webApi.WebClient,
    private readonly directory: Directory,
    private readonly roleGroups: RoleGroups,
    private readonly now: () => number = Date.now,
  ) {}

  async whoClicked(slackUserId: string): Promise<WhoClicked> {
    let profile: { email?: string; refused?: string };
    try {
      profile = await this.#profile(slackUserId);
    } catch (err) {
      return { ok: false, message: `Airlock could not read your Slack profile (${describeSlackError(err)}); try again in a moment.` };
    }
    if (profile.refused) return { ok: false, message: profile.refused };
    if (!profile.email) return { ok: false, message: "Your Slack profile shows no email address, so Airlock cannot tell who you are." };
    const known = await this.directory(profile.email);
    if (!known) return { ok: false, message: `Airlock does not know ${profile.email}: sign in to Airlock once, so it knows your groups.` };
    return { ok: true, person: { email: known.email, groups: known.groups, role: roleForGroups(known.groups, this.roleGroups) } };
  }

  async #profile(slackUserId: string): Promise<{ email?: string; refused?: string }> {
    const cached = this.#emails.get(slackUserId);
    if (cached && cached.until > this.now()) return { email: cached.email };
    const { user } = await this.client.users.info({ user: slackUserId });
    if (user?.is_bot) return { refused: "Slack apps cannot decide requests." };
    if (user?.deleted) return { refused: "Deactivated Slack accounts cannot decide requests." };
    const email = user?.profile?.email?.trim().toLowerCase();
    if (email) this.#emails.set(slackUserId, { email, until: this.now() + PROFILE_CACHE_MS });
    return { email };
  }
}
