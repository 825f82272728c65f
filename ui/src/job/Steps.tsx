// The job's steps: status, attempt, duration, what failed; every attempt; the files it made
// (they come with `jobUpdated` as the agent uploads them); and the step's log, which opens on
// demand and then follows `jobLogs` live.
import { useSubscription } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";

import { StatusBadge } from "../components";
import { bytes, duration } from "../format";
import { useLive } from "../live";
import { JOB_LOGS, type JobDetail, type LogLine, type Step } from "../queries";
import { download } from "../download";

const KEPT_LINES = 1000;

export function Steps({ job }: { job: JobDetail }) {
  const { connection } = useLive();
  return (
    <section className="card" aria-labelledby="steps-title">
      <div className="card-head">
        <h2 id="steps-title">Steps</h2>
        <button
          type="button"
          onClick={() => void download(job.logsUrl, connection.token, `job-${job.number}.jsonl`)}
        >
          Download log
        </button>
      </div>
      {job.steps.length === 0 && <p className="muted">No steps yet</p>}
      <ol className="steps">
        {job.steps.map((step) => (
          <StepView key={step.index} jobId={job.id} step={step} token={connection.token} />
        ))}
      </ol>
    </section>
  );
}

function StepView({ jobId, step, token }: { jobId: string; step: Step; token: string | null }) {
  const [open, setOpen] = useState(false);
  const logId = `step-${step.index}-log`;
  return (
    <li className="step" data-step={step.index}>
      <div className="step-head">
        <StatusBadge status={step.status} />
        <strong>{step.name}</strong>
        <span className="muted">
          {step.attempt > 1 ? `attempt ${step.attempt}` : ""} {duration(step.durationSeconds)}
        </span>
        <button
          type="button"
          aria-expanded={open}
          aria-controls={logId}
          onClick={() => setOpen(!open)}
        >
          {open ? "Hide log" : "Show log"}
        </button>
      </div>
      {step.error !== null && <p className="failure">{step.error}</p>}
      {step.errorDetail !== null && <pre className="detail">{step.errorDetail}</pre>}
      {step.attempts.length > 1 && (
        <table className="attempts">
          <caption className="visually-hidden">Attempts of {step.name}</caption>
          <thead>
            <tr>
              <th scope="col">Attempt</th>
              <th scope="col">Status</th>
              <th scope="col">Exit code</th>
              <th scope="col">Duration</th>
              <th scope="col">Agent</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {step.attempts.map((attempt) => (
              <tr key={attempt.attempt}>
                <td>{attempt.attempt}</td>
                <td>
                  <StatusBadge status={attempt.status} />
                </td>
                <td>{attempt.exitCode ?? "—"}</td>
                <td>{duration(attempt.durationSeconds)}</td>
                <td>{attempt.agent?.name ?? "—"}</td>
                <td>{attempt.error ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {step.artifacts.length > 0 && (
        <ul className="artifacts" aria-label={`Files of ${step.name}`}>
          {step.artifacts.map((artifact) => (
            <li key={artifact.id}>
              <button
                type="button"
                onClick={() => void download(artifact.url, token, artifact.name)}
              >
                {artifact.name}
              </button>{" "}
              <span className="muted">{bytes(artifact.sizeBytes)}</span>
            </li>
          ))}
        </ul>
      )}
      {open && <StepLog id={logId} jobId={jobId} step={step.index} />}
    </li>
  );
}

function StepLog({ id, jobId, step }: { id: string; jobId: string; step: number }) {
  const [lines, setLines] = useState<LogLine[]>([]);
  useSubscription(JOB_LOGS, {
    variables: { id: jobId, step },
    onData: ({ data }) => {
      const line = data.data?.jobLogs;
      if (line !== undefined) setLines((kept) => [...kept, line].slice(-KEPT_LINES));
    },
  });
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const element = box.current;
    if (element !== null) element.scrollTop = element.scrollHeight;
  }, [lines]);
  return (
    <pre id={id} ref={box} className="log" tabIndex={0} aria-label="Step log" aria-live="off">
      {lines.length === 0 && <span className="muted">No lines yet</span>}
      {lines.map((line) => (
        <span key={line.sequence} className={`line ${line.stream.toLowerCase()}`}>
          {line.message}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}
