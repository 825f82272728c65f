// How times, durations and statuses read on the page.
import type { JobStatus } from "./queries";

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return "—";
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

export function milliseconds(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return ms < 1000 ? `${ms} ms` : duration(ms / 1000);
}

/** A job's duration: the server's figure, moving on with the clock while it runs. */
export function liveDuration(
  job: { status: JobStatus; startedAt: string | null; durationSeconds: number | null },
  now: number,
): string {
  if (job.status === "RUNNING" && job.startedAt !== null) {
    return duration((now - Date.parse(job.startedAt)) / 1000);
  }
  return duration(job.durationSeconds);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
];
const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

export function ago(iso: string, now: number): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

export function timestamp(iso: string | null): string {
  return iso === null ? "—" : new Date(iso).toLocaleString("en-GB");
}

export function label(status: string): string {
  return status.charAt(0) + status.slice(1).toLowerCase();
}

export function bytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
