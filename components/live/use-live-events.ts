"use client";

import { useEffect, useRef } from "react";
import type { LiveEvent } from "@/lib/events/live-view";

export interface LiveHandlers {
  /** The socket (re)opened: changes since the page rendered sent no event anyone heard. */
  opened?(): void;
  event(event: LiveEvent): void;
}

/** Listens to /api/live while the component is mounted, reconnecting with backoff. */
export function useLiveEvents(handlers: LiveHandlers): void {
  // The latest handlers, without reconnecting each render.
  const current = useRef(handlers);
  useEffect(() => {
    current.current = handlers;
  });

  useEffect(() => {
    let socket: WebSocket | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempts = 0;
    let stopped = false;

    const connect = () => {
      socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`);
      socket.onopen = () => {
        attempts = 0;
        current.current.opened?.();
      };
      socket.onmessage = (message) => {
        const data = JSON.parse(String(message.data)) as { type: string; event?: LiveEvent };
        if (data.type === "event" && data.event) current.current.event(data.event);
      };
      socket.onclose = () => {
        if (stopped) return;
        retry = setTimeout(connect, Math.min(10_000, 500 * 2 ** attempts++));
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      socket?.close();
    };
  }, []);
}
