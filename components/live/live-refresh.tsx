"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { useLiveEvents } from "./use-live-events";

const REFRESH_AFTER_MS = 300;

/**
 * Keeps a server-rendered page current: when /api/live reports a change of one of the given
 * kinds, the page is re-rendered in place (no reload). Reconnects with backoff.
 */
export function LiveRefresh({ on, title }: { on: string[]; title?: string }) {
  const router = useRouter();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // A count in the tab's title, so a new request is seen from another tab.
  useEffect(() => {
    if (title) document.title = title;
  }, [title]);

  useEffect(() => () => clearTimeout(timer.current), []);

  // Bursts of events become one refresh.
  const refresh = () => {
    timer.current ??= setTimeout(() => {
      timer.current = undefined;
      router.refresh();
    }, REFRESH_AFTER_MS);
  };
  useLiveEvents({
    opened: refresh,
    event: (event) => {
      if (on.includes(event.type)) refresh();
    },
  });

  return null;
}
