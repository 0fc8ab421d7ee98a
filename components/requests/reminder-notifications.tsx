"use client";

import { useEffect, useState } from "react";
import { useLiveEvents } from "@/components/live/use-live-events";

/** Where this browser keeps the opt-in: per browser, as the permission it goes with. */
const STORAGE_KEY = "airlock.reminder-notifications";

type State = "unsupported" | "off" | "on" | "blocked";

/**
 * Browser notifications of reminders and escalations for the requests this person may decide,
 * while the queue is open. Off by default: the browser's permission is asked only when the person
 * turns them on here (browsers ignore requests not made from a click), and the choice is kept.
 */
export function ReminderNotifications() {
  const [state, setState] = useState<State>("off");

  useEffect(() => {
    // Read after mounting: the server renders "off", and knows neither the API nor the choice.
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the browser's state, known only here
    setState(initialState());
  }, []);

  useLiveEvents({
    event: (event) => {
      if (state !== "on" || !event.forYou || Notification.permission !== "granted") return;
      const escalated = event.type === "request.escalated";
      const notice = new Notification(escalated ? "Airlock: a request escalated to you" : "Airlock: a request still waits for you", {
        body: escalated ? "Its approvers did not decide in time; you may decide it now." : "A request you may decide is still waiting.",
        tag: event.type,
      });
      notice.onclick = () => window.focus();
    },
  });

  async function turnOn() {
    const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
    const next = permission === "granted" ? "on" : "blocked";
    if (next === "on") localStorage.setItem(STORAGE_KEY, "on");
    setState(next);
  }

  function turnOff() {
    localStorage.removeItem(STORAGE_KEY);
    setState("off");
  }

  return (
    <p className="muted small" data-testid="reminder-notifications">
      {state === "unsupported" && "This browser cannot show notifications of reminders."}
      {state === "blocked" && "Notifications are blocked for this site in the browser's settings."}
      {state === "off" && (
        <button type="button" className="button" onClick={() => void turnOn()}>
          Notify me of reminders and escalations
        </button>
      )}
      {state === "on" && (
        <>
          Reminders and escalations for you are shown as notifications while this page is open.{" "}
          <button type="button" className="button" onClick={turnOff}>
            Turn off
          </button>
        </>
      )}
    </p>
  );
}

function initialState(): State {
  if (typeof Notification === "undefined") return "unsupported";
  if (Notification.permission === "denied") return "blocked";
  return localStorage.getItem(STORAGE_KEY) === "on" && Notification.permission === "granted" ? "on" : "off";
}
