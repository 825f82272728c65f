// The list follows `jobStatusChanged`: each event updates the job in the cache, and adds it to
// or removes it from the list on screen by the tab's statuses. The stream is read straight off
// the socket so that a reconnection resumes `after` the last event seen (graphql-ws sends the
// subscription's payload again on each connection, with the sequence it holds then).
import type { ApolloCache } from "@apollo/client";
import { print } from "graphql";
import { useEffect, useRef } from "react";

import { useLive } from "../live";
import {
  JOB_ROW,
  JOB_STATUS_CHANGED,
  JOBS_PAGE,
  type JobFilter,
  type JobRow,
  type JobStatus,
  type StatusEvent,
} from "../queries";

export function useStatusStream(filter: JobFilter, onEvent: (event: StatusEvent) => void): void {
  const { connection } = useLive();
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const key = JSON.stringify(filter);
  useEffect(() => {
    const variables: { filter: JobFilter; after: number | null } = {
      filter: JSON.parse(key) as JobFilter,
      after: null,
    };
    return connection.socket.subscribe<{ jobStatusChanged: StatusEvent }>(
      { query: print(JOB_STATUS_CHANGED), variables },
      {
        next: (result) => {
          const event = result.data?.jobStatusChanged;
          if (event === undefined || (variables.after !== null && event.sequence <= variables.after)) {
            return;
          }
          variables.after = event.sequence;
          handler.current(event);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }, [connection, key]);
}

function newer(a: JobRow, b: JobRow): boolean {
  return a.createdAt === b.createdAt ? a.number > b.number : a.createdAt > b.createdAt;
}

/** The event applied to the cache: the job's row, and the list of `filter` showing `statuses`
 * (all when undefined). A job older than the rows loaded so far waits for its page. */
export function applyStatusEvent(
  cache: ApolloCache,
  filter: JobFilter,
  statuses: JobStatus[] | undefined,
  event: StatusEvent,
): void {
  cache.writeFragment({ fragment: JOB_ROW, data: event.job });
  cache.updateQuery({ query: JOBS_PAGE, variables: { filter } }, (page) => {
    if (page === null) return;
    const edges = page.jobs.edges;
    const shown = edges.some((edge) => edge.node.id === event.job.id);
    const belongs = statuses === undefined || statuses.includes(event.status);
    if (shown && !belongs) {
      return {
        jobs: { ...page.jobs, edges: edges.filter((edge) => edge.node.id !== event.job.id) },
      };
    }
    if (shown || !belongs) return;
    const at = edges.findIndex((edge) => newer(event.job, edge.node));
    if (at === -1 && page.jobs.pageInfo.hasNextPage) return;
    const added = [...edges];
    added.splice(at === -1 ? added.length : at, 0, {
      __typename: "JobEdge",
      cursor: "",
      node: event.job,
    });
    return { jobs: { ...page.jobs, edges: added } };
  });
}
