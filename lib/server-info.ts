import fs from "node:fs";
import path from "node:path";
import { writeSecretFile } from "./secret-file";

/**
 * Where a running Airlock can be reached, written at start into the data dir so that the
 * command line finds the server even when it picked a free port.
 */
export interface ServerInfo {
  pid: number;
  publicUrl: string;
  issuer: string;
  developmentIdp: boolean;
  /** The agent clients the server accepts, for a standalone proxy verifying tokens of the same issuer. */
  agentClientIds?: readonly string[];
  proxy: { host: string; port: number };
}

const FILE = "server.json";

export function writeServerInfo(dataDir: string, info: ServerInfo): void {
  writeSecretFile(path.join(dataDir, FILE), JSON.stringify(info, null, 2));
}

export function readServerInfo(dataDir: string): ServerInfo | undefined {
  const file = path.join(dataDir, FILE);
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, "utf8")) as ServerInfo;
}

export function removeServerInfo(dataDir: string): void {
  fs.rmSync(path.join(dataDir, FILE), { force: true });
}
