// A job: heading with its status and actions, what it is, its input, its error or output, its
// steps with their attempts, logs and artifacts, its Temporal timeline and its events; all live.
import { useQuery, useSubscription } from "@apollo/client/react";

import { useNow } from "../clock";
import { Failure, Link, StatusBadge, useTitle } from "../components";
import { label, liveDuration, timestamp } from "../format";
import { useFallbackPoll } from "../live";
import { JOB, JOB_UPDATED, type JobDetail } from "../queries";
import { JobActions } from "./JobActions";
import { JsonCard } from "./JsonCard";
import { Steps } from "./Steps";
import { TimelineCard } from "./TimelineCard";

export function JobPage({ number, from }: { number: number; from: string }) {
  useTitle(`Job #${number}`);
  const pollInterval = useFallbackPoll();
  const { data, error } = useQuery(JOB, { variables: { number }, pollInterval });
  const job = data?.job;
  useSubscription(JOB_UPDATED, {
    variables: { id: job?.id ?? "" },
    skip: job === undefined || job === null,
  });
  return (
    <>
      <Link href={from === "" ? "/" : `/?${from}`} className="back">
        ← Jobs
      </Link>
      {error !== undefined && <Failure error={error} />}
      {job === null && <p className="empty">Job #{number} does not exist.</p>}
      {job !== undefined && job !== null && <JobView job={job} />}
    </>
  );
}

function JobView({ job }: { job: JobDetail }) {
  const now = useNow();
  const effort =
    job.effortLevel === null
      ? "—"
      : `${label(job.effortLevel)}${job.effort === null ? "" : ` ${JSON.stringify(job.effort)}`}`;
  return (
    <article>
      <div className="page-head">
        <h1>{job.name}</h1>
        <StatusBadge status={job.status} />
      </div>
      <JobActions job={job} />
      <dl className="facts">
        <Fact term="Job">#{job.number}</Fact>
        <Fact term="Workflow">{job.workflow.displayName}</Fact>
        <Fact term="Agent">{job.agent?.name ?? "—"}</Fact>
        <Fact term="Effort">{effort}</Fact>
        <Fact term="Duration">{liveDuration(job, now)}</Fact>
        <Fact term="Created">{timestamp(job.createdAt)}</Fact>
        <Fact term="Source">{label(job.source.replaceAll("_", " "))}</Fact>
        <Fact term="Pipeline">
          {job.temporalUrl === null ? (
            job.pipelineId
          ) : (
            <a href={job.temporalUrl}>{job.pipelineId}</a>
          )}
        </Fact>
        {job.queue !== null && <Fact term="Queue">{job.queue.reason}</Fact>}
      </dl>
      <JsonCard title="Input" value={job.input} />
      {job.error !== null ? (
        <section className="card error" aria-labelledby="error-title">
          <h2 id="error-title">Error</h2>
          <pre>{job.error}</pre>
        </section>
      ) : (
        job.output !== null && <JsonCard title="Output" value={job.output} />
      )}
      <Steps job={job} />
      <TimelineCard job={job} />
      <section className="card" aria-labelledby="events-title">
        <h2 id="events-title">Events</h2>
        <ol className="events">
          {job.events.map((event) => (
            <li key={event.sequence}>
              <time dateTime={event.at}>{timestamp(event.at)}</time>{" "}
              <strong>
                {event.fromStatus === null ? "" : `${label(event.fromStatus)} → `}
                {label(event.toStatus)}
              </strong>
              {event.actor !== null && <span className="muted"> by {event.actor}</span>}
              {event.message !== null && <span>: {event.message}</span>}
            </li>
          ))}
        </ol>
      </section>
    </article>
  );
}

function Fact({ term, children }: { term: string; children: React.ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
