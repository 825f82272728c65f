// The Jobs list: tabs with live counts, ticket search, workflow and agent filters, rows that
// follow the status stream, and the next 50 when the end of the list comes into view.
import { useApolloClient, useQuery, useSubscription } from "@apollo/client/react";
import { useEffect, useRef, useState } from "react";

import { Failure, Link, useTitle } from "../components";
import { useFallbackPoll } from "../live";
import {
  FILTER_OPTIONS,
  JOB_COUNTS,
  JOB_COUNTS_LIVE,
  JOBS_PAGE,
  type Counts,
  type JobFilter,
} from "../queries";
import { navigate } from "../router";
import { JobRowView } from "./JobRowView";
import { applyStatusEvent, useStatusStream } from "./statusStream";
import { TABS, tabNamed, type Tab } from "./tabs";

const SEARCH_DELAY_MS = 250;

interface ListParams {
  tab: Tab;
  search: string;
  workflow: string;
  agent: string;
}

function listParams(params: URLSearchParams): ListParams {
  return {
    tab: tabNamed(params.get("status")),
    search: params.get("search") ?? "",
    workflow: params.get("workflow") ?? "",
    agent: params.get("agent") ?? "",
  };
}

function listUrl({ tab, search, workflow, agent }: ListParams): string {
  const params = new URLSearchParams();
  if (tab.key !== "all") params.set("status", tab.key);
  if (search !== "") params.set("search", search);
  if (workflow !== "") params.set("workflow", workflow);
  if (agent !== "") params.set("agent", agent);
  const query = params.toString();
  return query === "" ? "/" : `/?${query}`;
}

/** The filter of the counts (every status) and of the list (the tab's statuses). */
function filters({ tab, search, workflow, agent }: ListParams): [JobFilter, JobFilter] {
  const counts: JobFilter = {};
  if (search !== "") counts.search = search;
  if (workflow !== "") counts.workflow = [workflow];
  if (agent !== "") counts.agent = [agent];
  return [counts, tab.statuses === undefined ? counts : { ...counts, status: tab.statuses }];
}

export function JobsPage({ params }: { params: URLSearchParams }) {
  useTitle("Jobs");
  const current = listParams(params);
  const [countsFilter, listFilter] = filters(current);
  const go = (change: Partial<ListParams>, replace = false) =>
    navigate(listUrl({ ...current, ...change }), { replace });

  const client = useApolloClient();
  const pollInterval = useFallbackPoll();
  const counts = useQuery(JOB_COUNTS, { variables: { filter: countsFilter }, pollInterval });
  useSubscription(JOB_COUNTS_LIVE, {
    variables: { filter: countsFilter },
    onData: ({ data }) => {
      if (data.data !== undefined) {
        client.writeQuery({ query: JOB_COUNTS, variables: { filter: countsFilter }, data: data.data });
      }
    },
  });
  const list = useQuery(JOBS_PAGE, {
    variables: { filter: listFilter },
    pollInterval,
    notifyOnNetworkStatusChange: true,
  });
  useStatusStream(countsFilter, (event) =>
    applyStatusEvent(client.cache, listFilter, current.tab.statuses, event),
  );

  const page = list.data?.jobs;
  const loadingMore = list.networkStatus === 3;
  const more = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const sentinel = more.current;
    if (sentinel === null || page?.pageInfo.hasNextPage !== true || loadingMore) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        observer.disconnect();
        void list.fetchMore({ variables: { after: page.pageInfo.endCursor } });
      }
    });
    observer.observe(sentinel);
    return () => observer.disconnect();
  }, [page, loadingMore, list]);

  const shownCounts: Counts | undefined = counts.data?.jobCounts;
  const total = shownCounts === undefined ? null : current.tab.count(shownCounts);
  return (
    <>
      <div className="page-head">
        <h1>Jobs</h1>
        <p className="muted" aria-live="polite" data-testid="total">
          {total === null ? "" : `${total} ${total === 1 ? "job" : "jobs"}`}
        </p>
      </div>
      <nav aria-label="Status" className="tabs">
        {TABS.map((tab) => (
          <Link
            key={tab.key}
            href={listUrl({ ...current, tab })}
            className={tab === current.tab ? "tab selected" : "tab"}
            aria-current={tab === current.tab ? "page" : undefined}
          >
            {tab.title}
            {shownCounts !== undefined && (
              <span className="count" data-tab={tab.key}>
                {tab.count(shownCounts)}
              </span>
            )}
          </Link>
        ))}
      </nav>
      <Filters current={current} go={go} />
      {counts.error !== undefined && <Failure error={counts.error} />}
      {list.error !== undefined && <Failure error={list.error} />}
      {page !== undefined && page.edges.length === 0 && (
        <p className="empty">{current.tab.empty}</p>
      )}
      {page !== undefined && page.edges.length > 0 && (
        <table className="jobs">
          <caption className="visually-hidden">{current.tab.title} jobs</caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Workflow</th>
              <th scope="col">Ticket</th>
              <th scope="col">Effort</th>
              <th scope="col">Steps</th>
              <th scope="col">Duration</th>
              <th scope="col">Agent</th>
              <th scope="col">Created</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {page.edges.map(({ node }) => (
              <JobRowView key={node.id} job={node} from={listUrl(current).slice(1)} />
            ))}
          </tbody>
        </table>
      )}
      <div ref={more} className="more">
        {loadingMore && <p role="status">Loading more...</p>}
      </div>
    </>
  );
}

function Filters({ current, go }: {
  current: ListParams;
  go: (change: Partial<ListParams>, replace?: boolean) => void;
}) {
  const options = useQuery(FILTER_OPTIONS).data?.jobFilterOptions;
  const [typed, setTyped] = useState(current.search);
  const latest = useRef(go);
  latest.current = go;
  useEffect(() => {
    if (typed === current.search) return;
    const timer = window.setTimeout(() => latest.current({ search: typed.trim() }, true), SEARCH_DELAY_MS);
    return () => window.clearTimeout(timer);
  }, [typed, current.search]);
  return (
    <div className="filters" role="search">
      <input
        type="search"
        placeholder="Search tickets..."
        aria-label="Search tickets"
        value={typed}
        onChange={(event) => setTyped(event.target.value)}
      />
      <select
        aria-label="Workflow"
        value={current.workflow}
        onChange={(event) => go({ workflow: event.target.value })}
      >
        <option value="">All workflows</option>
        {options?.workflows.map((workflow) => (
          <option key={workflow.id} value={workflow.slug}>
            {workflow.displayName}
          </option>
        ))}
      </select>
      {options !== undefined && options.agents.length > 0 && (
        <select
          aria-label="Agent"
          value={current.agent}
          onChange={(event) => go({ agent: event.target.value })}
        >
          <option value="">All agents</option>
          {options.agents.map((agent) => (
            <option key={agent.id} value={agent.name}>
              {agent.name}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}
