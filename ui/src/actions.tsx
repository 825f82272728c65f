// The job actions (cancel, resend, rerun, approve, reject, pause, resume, follow-up): a button
// that runs one mutation and says why the server refused it, if it did.
import { useMutation } from "@apollo/client/react";
import type { TypedDocumentNode } from "@apollo/client";
import { useState } from "react";

import { problem } from "./errors";
import type { JobPayload, JobRow } from "./queries";

type Payload<Name extends string> = Record<Name, JobPayload>;

export function useAction<Name extends string, Vars extends Record<string, unknown>>(
  document: TypedDocumentNode<Payload<Name>, Vars>,
  name: Name,
): { run: (variables: Vars) => Promise<JobRow | null>; busy: boolean; error: string | null } {
  const [mutate, { loading }] = useMutation(document);
  // Apollo types the options by the variables' shape, which it cannot resolve for a generic one.
  const execute = mutate as (options: { variables: Vars }) => ReturnType<typeof mutate>;
  const [error, setError] = useState<string | null>(null);
  async function run(variables: Vars): Promise<JobRow | null> {
    setError(null);
    try {
      const payload = (await execute({ variables })).data?.[name];
      const refusal = payload?.errors[0];
      if (refusal !== undefined) {
        setError(refusal.message);
        return null;
      }
      return payload?.job ?? null;
    } catch (thrown) {
      setError(problem(thrown).message);
      return null;
    }
  }
  return { run, busy: loading, error };
}

export function ActionButton<Name extends string, Vars extends Record<string, unknown>>({
  document,
  name,
  variables,
  label,
  describedBy,
  onDone,
}: {
  document: TypedDocumentNode<Payload<Name>, Vars>;
  name: Name;
  variables: Vars;
  label: string;
  describedBy?: string;
  onDone?: (job: JobRow) => void;
}) {
  const { run, busy, error } = useAction(document, name);
  return (
    <span className="action">
      <button
        type="button"
        disabled={busy}
        aria-describedby={describedBy}
        onClick={() => {
          void run(variables).then((job) => {
            if (job !== null) onDone?.(job);
          });
        }}
      >
        {label}
      </button>
      {error !== null && (
        <span role="alert" className="failure">
          {error}
        </span>
      )}
    </span>
  );
}
