"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

const REFRESH_AFTER_MS = 300;

/**
 * Keeps a server-rendered page current: when /api/live reports a change of one of the given
 * kinds, the page is re-rendered in place (no reload). Reconnects with backoff.
 */
export function LiveRefresh({ on, title }: { on: string[]; title?: string }) {
  const router = useRouter();
  const kinds = on.join(",");

  // A count in the tab's title, so a new request is seen from another tab.
  useEffect(() => {
    if (title) document.title = title;
  }, [title]);

  useEffect(() => {
    const wanted = new Set(kinds.split(","));
    let socket: WebSocket | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    let stopped = false;

    const connect = () => {
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`;
      socket = new WebSocket(url);
      // Bursts of events become one refresh.
      const refresh = () => {
        timer ??= setTimeout(() => {
          timer = undefined;
          router.refresh();
        }, REFRESH_AFTER_MS);
      };
      socket.onopen = () => {
        attempts = 0;
        // Changes between the page's render and this moment sent no event we could hear.
        refresh();
      };
      socket.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as { type: string; event?: { type: string } };
        if (data.type === "event" && data.event && wanted.has(data.event.type)) refresh();
      };
      socket.onclose = () => {
        if (stopped) return;
        retry = setTimeout(connect, Math.min(10_000, 500 * 2 ** attempts++));
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      clearTimeout(retry);
      socket?.close();
    };
  }, [kinds, router]);

  return null;
}
