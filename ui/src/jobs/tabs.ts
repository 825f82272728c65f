// The status tabs of the list: which statuses each shows (every status is in exactly one tab
// besides All, so the tabs add up to All) and what it says when it has none.
import type { Counts, JobStatus } from "../queries";

export interface Tab {
  readonly key: string;
  readonly title: string;
  readonly statuses?: JobStatus[];
  readonly empty: string;
  count(counts: Counts): number;
}

export const TABS: readonly Tab[] = [
  { key: "all", title: "All", empty: "No jobs yet", count: (c) => c.all },
  {
    key: "running",
    title: "Running",
    statuses: ["PENDING", "RUNNING"],
    empty: "No running jobs",
    count: (c) => c.pending + c.running,
  },
  {
    key: "waiting",
    title: "Waiting",
    statuses: ["SCHEDULED", "WAITING", "PAUSED"],
    empty: "No waiting jobs",
    count: (c) => c.scheduled + c.waiting + c.paused,
  },
  {
    key: "completed",
    title: "Completed",
    statuses: ["COMPLETED"],
    empty: "No completed jobs",
    count: (c) => c.completed,
  },
  {
    key: "failed",
    title: "Failed",
    statuses: ["FAILED"],
    empty: "No failed jobs",
    count: (c) => c.failed,
  },
  {
    key: "cancelled",
    title: "Cancelled",
    statuses: ["CANCELLED"],
    empty: "No cancelled jobs",
    count: (c) => c.cancelled,
  },
];

export function tabNamed(key: string | null): Tab {
  return TABS.find((tab) => tab.key === key) ?? (TABS[0] as Tab);
}
