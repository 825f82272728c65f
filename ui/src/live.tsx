// What the pages share besides Apollo's client: the socket (for the resumable status stream),
// its state, and a way to say that the server refused the token.
import { createContext, useContext } from "react";

import type { Connection } from "./client";
import type { Problem } from "./errors";
import { useStore } from "./store";

export interface Live {
  readonly connection: Connection;
  readonly refused: (problem: Problem) => void;
}

export const LiveContext = createContext<Live | null>(null);

export function useLive(): Live {
  const live = useContext(LiveContext);
  if (live === null) throw new Error("useLive outside of the page's LiveContext");
  return live;
}

/** Whether subscriptions flow now; while they do, nothing polls. */
export function useSocketUp(): boolean {
  return useStore(useLive().connection.socketState) === "up";
}

/** How often a page re-reads while its socket is down (and not at all while it is up). */
export const FALLBACK_POLL_MS = 15000;

export function useFallbackPoll(): number {
  return useSocketUp() ? 0 : FALLBACK_POLL_MS;
}
