import type { Metadata } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Airlock", template: "%s · Airlock" },
  description: "Just-in-time access for AI agents to production databases",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request, never prerendered: a page's scripts run only with that request's CSP
  // nonce (server/security-headers.ts), which a page built ahead of time cannot carry.
  await connection();
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
