// Small pieces both pages use.
import { useEffect } from "react";

import { problem } from "./errors";
import { label } from "./format";
import { useLive } from "./live";
import { followLink } from "./router";

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`}>
      <span className="dot" aria-hidden="true" />
      {label(status)}
    </span>
  );
}

export function Link(props: React.AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return <a {...props} onClick={followLink} />;
}

/** An error of a query: a refused token goes back to the token form, anything else is shown. */
export function Failure({ error }: { error: unknown }) {
  const { refused } = useLive();
  const found = problem(error);
  useEffect(() => {
    if (found.unauthenticated) refused(found);
  }, [found.unauthenticated, found.message, refused]);
  return (
    <p role="alert" className="failure">
      {found.message}
    </p>
  );
}

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} - jobmonitor`;
  }, [title]);
}
