// The job's artifacts, on servers whose schema has them: asked apart from the job, so that a
// server without them answers an error this card takes as "nothing to show".
import { useQuery } from "@apollo/client/react";

import { bytes } from "../format";
import { useLive } from "../live";
import { JOB_ARTIFACTS } from "../queries";
import { download } from "../download";

export function Artifacts({ number }: { number: number }) {
  const { connection } = useLive();
  const { data, error } = useQuery(JOB_ARTIFACTS, { variables: { number } });
  const artifacts = data?.job?.artifacts;
  if (error !== undefined || artifacts === undefined || artifacts.length === 0) return null;
  return (
    <section className="card" aria-labelledby="artifacts-title">
      <h2 id="artifacts-title">Artifacts</h2>
      <ul className="artifacts">
        {artifacts.map((artifact) => (
          <li key={artifact.id}>
            <button
              type="button"
              onClick={() => void download(artifact.url, connection.token, artifact.name)}
            >
              {artifact.name}
            </button>{" "}
            <span className="muted">
              {bytes(artifact.sizeBytes)}
              {artifact.step === null ? "" : ` · step ${artifact.step + 1}`}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
