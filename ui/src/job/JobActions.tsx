// What can be done to the job now, by its status: cancel, resend, rerun, approve or reject
// with a comment, pause or resume, and a follow-up of a finished job.
import { useQuery } from "@apollo/client/react";
import { useState } from "react";

import { ActionButton } from "../actions";
import {
  APPROVE_JOB,
  CANCEL_JOB,
  FILTER_OPTIONS,
  FOLLOW_UP_JOB,
  PAUSE_JOB,
  REJECT_JOB,
  RERUN_JOB,
  RESEND_JOB,
  RESUME_JOB,
  type JobDetail,
  type JobRow,
} from "../queries";
import { navigate } from "../router";

const FINISHED = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

export function JobActions({ job }: { job: JobDetail }) {
  const id = { id: job.id };
  const open = (made: JobRow) => navigate(`/jobs/${made.number}`);
  return (
    <div className="actions" aria-label="Actions" role="group">
      {job.canCancel && (
        <ActionButton document={CANCEL_JOB} name="cancelJob" variables={id} label="Cancel" />
      )}
      {job.canResend && (
        <ActionButton
          document={RESEND_JOB}
          name="resendJob"
          variables={id}
          label="Resend"
          onDone={open}
        />
      )}
      {FINISHED.has(job.status) && (
        <ActionButton
          document={RERUN_JOB}
          name="rerunJob"
          variables={id}
          label="Rerun"
          onDone={open}
        />
      )}
      {job.status === "RUNNING" && (
        <ActionButton document={PAUSE_JOB} name="pauseJob" variables={id} label="Pause" />
      )}
      {job.status === "PAUSED" && (
        <ActionButton document={RESUME_JOB} name="resumeJob" variables={id} label="Resume" />
      )}
      {job.status === "WAITING" && <Decision id={job.id} />}
      {FINISHED.has(job.status) && <FollowUp job={job} onDone={open} />}
    </div>
  );
}

function Decision({ id }: { id: string }) {
  const [comment, setComment] = useState("");
  const variables = { id, comment: comment.trim() === "" ? null : comment.trim() };
  return (
    <span className="decision">
      <input
        type="text"
        aria-label="Comment"
        placeholder="Comment"
        value={comment}
        onChange={(event) => setComment(event.target.value)}
      />
      <ActionButton document={APPROVE_JOB} name="approveJob" variables={variables} label="Approve" />
      <ActionButton document={REJECT_JOB} name="rejectJob" variables={variables} label="Reject" />
    </span>
  );
}

function FollowUp({ job, onDone }: { job: JobDetail; onDone: (made: JobRow) => void }) {
  const workflows = useQuery(FILTER_OPTIONS).data?.jobFilterOptions.workflows ?? [];
  const [workflow, setWorkflow] = useState(job.workflow.slug);
  return (
    <span className="follow-up">
      <select
        aria-label="Follow-up workflow"
        value={workflow}
        onChange={(event) => setWorkflow(event.target.value)}
      >
        {workflows.map((option) => (
          <option key={option.id} value={option.slug}>
            {option.displayName}
          </option>
        ))}
      </select>
      <ActionButton
        document={FOLLOW_UP_JOB}
        name="dispatchJob"
        variables={{ id: job.id, workflow }}
        label="Follow up"
        onDone={onDone}
      />
    </span>
  );
}
