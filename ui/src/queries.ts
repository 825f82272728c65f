// The operations of the page and the shapes of their answers (from schema.graphql).
import { gql, type TypedDocumentNode } from "@apollo/client";

export type JobStatus =
  | "SCHEDULED"
  | "PENDING"
  | "RUNNING"
  | "WAITING"
  | "PAUSED"
  | "COMPLETED"
  | "FAILED"
  | "CANCELLED";
export type StepStatus = "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "SKIPPED";
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface JobFilter {
  status?: JobStatus[];
  search?: string;
  workflow?: string[];
  agent?: string[];
}

interface Named {
  __typename: "Workflow" | "Agent";
  id: string;
}
export interface Workflow extends Named {
  slug: string;
  displayName: string;
}
export interface Agent extends Named {
  name: string;
}

export interface JobRow {
  __typename: "Job";
  id: string;
  number: number;
  name: string;
  status: JobStatus;
  ticketKey: string | null;
  effortLevel: "MAX" | "HIGH" | "MEDIUM" | null;
  stepCount: number;
  durationSeconds: number | null;
  startedAt: string | null;
  createdAt: string;
  canCancel: boolean;
  canResend: boolean;
  workflow: Workflow;
  agent: Agent | null;
}

// Each object carries its __typename in the text itself: the status stream is read straight
// off the socket and written into the cache, which needs it to know the object.
export const JOB_ROW: TypedDocumentNode<JobRow> = gql`
  fragment JobRow on Job {
    __typename
    id
    number
    name
    status
    ticketKey
    effortLevel
    stepCount
    durationSeconds
    startedAt
    createdAt
    canCancel
    canResend
    workflow { __typename id slug displayName }
    agent { __typename id name }
  }
`;

export interface Counts {
  all: number;
  scheduled: number;
  pending: number;
  running: number;
  waiting: number;
  paused: number;
  completed: number;
  failed: number;
  cancelled: number;
}
const COUNTS = "all scheduled pending running waiting paused completed failed cancelled";

export const JOB_COUNTS: TypedDocumentNode<{ jobCounts: Counts }, { filter: JobFilter }> = gql`
  query JobCounts($filter: JobFilter) { jobCounts(filter: $filter) { ${COUNTS} } }
`;
export const JOB_COUNTS_LIVE: TypedDocumentNode<{ jobCounts: Counts }, { filter: JobFilter }> =
  gql`
    subscription JobCountsLive($filter: JobFilter) { jobCounts(filter: $filter) { ${COUNTS} } }
  `;

export interface JobsPage {
  jobs: {
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { __typename?: "JobEdge"; cursor: string; node: JobRow }[];
  };
}
export const JOBS_PAGE: TypedDocumentNode<
  JobsPage,
  { filter: JobFilter; after?: string | null }
> = gql`
  query JobsPage($filter: JobFilter, $after: String) {
    jobs(first: 50, after: $after, filter: $filter) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { ...JobRow } }
    }
  }
  ${JOB_ROW}
`;

export interface FilterOptions {
  jobFilterOptions: { workflows: Workflow[]; agents: Agent[] };
}
export const FILTER_OPTIONS: TypedDocumentNode<FilterOptions, Record<string, never>> = gql`
  query JobFilterOptions {
    jobFilterOptions {
      workflows { __typename id slug displayName }
      agents { __typename id name }
    }
  }
`;

export interface StatusEvent {
  sequence: number;
  previousStatus: JobStatus | null;
  status: JobStatus;
  job: JobRow;
}
export const JOB_STATUS_CHANGED: TypedDocumentNode<
  { jobStatusChanged: StatusEvent },
  { filter: JobFilter; after: number | null }
> = gql`
  subscription JobStatusChanged($filter: JobFilter, $after: Int) {
    jobStatusChanged(filter: $filter, after: $after) {
      sequence
      previousStatus
      status
      job { ...JobRow }
    }
  }
  ${JOB_ROW}
`;

export interface UserError {
  code: string;
  message: string;
  field: string | null;
}
export interface JobPayload {
  job: JobRow | null;
  errors: UserError[];
}
const PAYLOAD = `job { ...JobRow } errors { code message field }`;

type Action<Name extends string, Vars> = TypedDocumentNode<Record<Name, JobPayload>, Vars>;
export const CANCEL_JOB: Action<"cancelJob", { id: string }> = gql`
  mutation CancelJob($id: ID!) { cancelJob(id: $id) { ${PAYLOAD} } }
  ${JOB_ROW}
`;
export const RESEND_JOB: Action<"resendJob", { id: string }> = gql`
  mutation ResendJob($id: ID!) { resendJob(id: $id) { ${PAYLOAD} } }
  ${JOB_ROW}
`;
export const RERUN_JOB: Action<"rerunJob", { id: string }> = gql`
  mutation RerunJob($id: ID!) { rerunJob(id: $id) { ${PAYLOAD} } }
  ${JOB_ROW}
`;
export const APPROVE_JOB: Action<"approveJob", { id: string; comment: string | null }> = gql`
  mutation ApproveJob($id: ID!, $comment: String) { approveJob(id: $id, comment: $comment) { ${PAYLOAD} } }
  ${JOB_ROW}
`;
export const REJECT_JOB: Action<"rejectJob", { id: string; comment: string | null }> = gql`
  mutation RejectJob($id: ID!, $comment: String) { rejectJob(id: $id, reason: $comment) { ${PAYLOAD} } }
  ${JOB_ROW}
`;
export const PAUSE_JOB: Action<"pauseJob", { id: string }> = gql`
  mutation PauseJob($id: ID!) { pauseJob(id: $id) { ${PAYLOAD} } }
  ${JOB_ROW}
`;
export const RESUME_JOB: Action<"resumeJob", { id: string }> = gql`
  mutation ResumeJob($id: ID!) { resumeJob(id: $id) { ${PAYLOAD} } }
  ${JOB_ROW}
`;
export const FOLLOW_UP_JOB: Action<"dispatchJob", { id: string; workflow: string }> = gql`
  mutation FollowUpJob($id: ID!, $workflow: String!) {
    dispatchJob(input: { workflow: $workflow, followUpOf: $id }) { ${PAYLOAD} }
  }
  ${JOB_ROW}
`;

export interface Attempt {
  attempt: number;
  status: StepStatus;
  exitCode: number | null;
  error: string | null;
  durationSeconds: number | null;
  agent: { __typename: "Agent"; id: string; name: string } | null;
}
export interface Artifact {
  id: string;
  name: string;
  sizeBytes: number;
  url: string;
}
export interface Step {
  index: number;
  name: string;
  status: StepStatus;
  attempt: number;
  durationSeconds: number | null;
  error: string | null;
  errorDetail: string | null;
  attempts: Attempt[];
  artifacts: Artifact[];
}
export interface JobEvent {
  sequence: number;
  fromStatus: JobStatus | null;
  toStatus: JobStatus;
  at: string;
  actor: string | null;
  message: string | null;
}
export interface JobDetail extends JobRow {
  pipelineId: string;
  effort: Json;
  source: string;
  input: Json;
  output: Json;
  error: string | null;
  completedAt: string | null;
  temporalUrl: string | null;
  logsUrl: string;
  hint: string | null;
  ticketUrl: string | null;
  trigger: Record<string, string | null> | null;
  queue: { position: number; reason: string } | null;
  steps: Step[];
  events: JobEvent[];
}

const JOB_DETAIL: TypedDocumentNode<JobDetail> = gql`
  fragment JobDetail on Job {
    ...JobRow
    pipelineId
    effort
    source
    input
    output
    error
    completedAt
    temporalUrl
    logsUrl
    hint
    ticketUrl
    trigger { ticketUrl project assignee status issueKey issueType }
    queue { position reason }
    steps {
      index
      name
      status
      attempt
      durationSeconds
      error
      errorDetail
      attempts { attempt status exitCode error durationSeconds agent { __typename id name } }
      artifacts { id name sizeBytes url }
    }
    events { sequence fromStatus toStatus at actor message }
  }
  ${JOB_ROW}
`;

export const JOB: TypedDocumentNode<{ job: JobDetail | null }, { number: number }> = gql`
  query Job($number: Int!) { job(number: $number) { ...JobDetail } }
  ${JOB_DETAIL}
`;
export const JOB_UPDATED: TypedDocumentNode<{ jobUpdated: JobDetail }, { id: string }> = gql`
  subscription JobUpdated($id: ID!) { jobUpdated(id: $id) { ...JobDetail } }
  ${JOB_DETAIL}
`;

export interface Timeline {
  available: boolean;
  unavailableReason: string | null;
  headline: string | null;
  statusMismatch: string | null;
  phases: { name: string; durationMs: number | null; activityCount: number }[];
}
const TIMELINE = `available unavailableReason headline statusMismatch phases { name durationMs activityCount }`;

export const JOB_TIMELINE: TypedDocumentNode<
  { job: { __typename: "Job"; id: string; timeline: Timeline } | null },
  { number: number }
> = gql`
  query JobTimeline($number: Int!) { job(number: $number) { __typename id timeline { ${TIMELINE} } } }
`;
export const JOB_TIMELINE_LIVE: TypedDocumentNode<{ jobTimeline: Timeline }, { id: string }> =
  gql`
    subscription JobTimelineLive($id: ID!) { jobTimeline(id: $id) { ${TIMELINE} } }
  `;

export interface LogLine {
  sequence: number;
  stream: "STDOUT" | "STDERR" | "SYSTEM";
  message: string;
  attempt: number | null;
}
export const JOB_LOGS: TypedDocumentNode<
  { jobLogs: LogLine },
  { id: string; step: number }
> = gql`
  subscription JobLogs($id: ID!, $step: Int) {
    jobLogs(id: $id, step: $step) { sequence stream message attempt }
  }
`;
