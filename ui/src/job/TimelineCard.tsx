// The job's Temporal timeline: its headline, a status mismatch, its phases with their
// durations and activity counts; "Temporal unreachable" when its history cannot be read.
import { useApolloClient, useQuery, useSubscription } from "@apollo/client/react";

import { milliseconds } from "../format";
import { useFallbackPoll } from "../live";
import { JOB_TIMELINE, JOB_TIMELINE_LIVE, type JobDetail } from "../queries";

export function TimelineCard({ job }: { job: JobDetail }) {
  const client = useApolloClient();
  const variables = { number: job.number };
  const { data } = useQuery(JOB_TIMELINE, { variables, pollInterval: useFallbackPoll() });
  useSubscription(JOB_TIMELINE_LIVE, {
    variables: { id: job.id },
    onData: ({ data: pushed }) => {
      const timeline = pushed.data?.jobTimeline;
      if (timeline !== undefined) {
        client.writeQuery({
          query: JOB_TIMELINE,
          variables,
          data: { job: { __typename: "Job", id: job.id, timeline } },
        });
      }
    },
  });
  const timeline = data?.job?.timeline;
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {timeline === undefined && <p className="muted">Reading Temporal…</p>}
      {timeline !== undefined && !timeline.available && (
        <p className="failure" role="status">
          Temporal unreachable
          {timeline.unavailableReason === null ? "" : `: ${timeline.unavailableReason}`}
        </p>
      )}
      {timeline?.headline !== null && timeline?.headline !== undefined && (
        <p className="headline">{timeline.headline}</p>
      )}
      {timeline?.statusMismatch !== null && timeline?.statusMismatch !== undefined && (
        <p className="failure" role="status">
          Status mismatch: {timeline.statusMismatch}
        </p>
      )}
      {timeline !== undefined && timeline.phases.length > 0 && (
        <table className="phases">
          <caption className="visually-hidden">Phases</caption>
          <thead>
            <tr>
              <th scope="col">Phase</th>
              <th scope="col">Duration</th>
              <th scope="col">Activities</th>
            </tr>
          </thead>
          <tbody>
            {timeline.phases.map((phase) => (
              <tr key={phase.name} data-phase={phase.name}>
                <td>{phase.name}</td>
                <td className="numeric">{milliseconds(phase.durationMs)}</td>
                <td className="numeric">{phase.activityCount}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
