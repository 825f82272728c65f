// One row of the list: status, workflow, ticket, effort, steps, a duration that ticks while the
// job runs, agent, age, and Cancel / Resend when the job allows them.
import { ActionButton } from "../actions";
import { useNow } from "../clock";
import { Link, StatusBadge } from "../components";
import { ago, label, liveDuration, timestamp } from "../format";
import { CANCEL_JOB, RESEND_JOB, type JobRow } from "../queries";

export function JobRowView({ job, from }: { job: JobRow; from: string }) {
  const now = useNow();
  const href = `/jobs/${job.number}${from === "" ? "" : `?from=${encodeURIComponent(from)}`}`;
  const heading = `job-${job.number}`;
  return (
    <tr data-job={job.number} data-status={job.status}>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td>
        <Link href={href}>
          <span id={heading}>{job.workflow.displayName}</span>
        </Link>
        <div className="muted">#{job.number}</div>
      </td>
      <td>{job.ticketKey ?? <span className="muted">queued</span>}</td>
      <td>{job.effortLevel === null ? "—" : label(job.effortLevel)}</td>
      <td>{job.stepCount}</td>
      <td className="numeric">{liveDuration(job, now)}</td>
      <td>{job.agent?.name ?? "—"}</td>
      <td>
        <time dateTime={job.createdAt} title={timestamp(job.createdAt)}>
          {ago(job.createdAt, now)}
        </time>
      </td>
      <td className="row-actions">
        {job.canCancel && (
          <ActionButton
            document={CANCEL_JOB}
            name="cancelJob"
            variables={{ id: job.id }}
            label="Cancel"
            describedBy={heading}
          />
        )}
        {job.canResend && (
          <ActionButton
            document={RESEND_JOB}
            name="resendJob"
            variables={{ id: job.id }}
            label="Resend"
            describedBy={heading}
          />
        )}
      </td>
    </tr>
  );
}
