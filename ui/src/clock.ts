// One clock for the page: durations of running jobs and relative times move with it.
import { Store, useStore } from "./store";

const now = new Store(Date.now());
window.setInterval(() => now.set(Date.now()), 1000);

export function useNow(): number {
  return useStore(now);
}
