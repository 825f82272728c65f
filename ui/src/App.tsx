// The page: the token form when the server needs a token and none works yet, otherwise the
// connection (Apollo over HTTP and one socket) and the page the URL names.
import { ApolloProvider } from "@apollo/client/react";
import { useCallback, useEffect, useMemo, useState } from "react";

import { connect, type Connection } from "./client";
import { Link } from "./components";
import type { PageConfig } from "./config";
import type { Problem } from "./errors";
import { JobPage } from "./job/JobPage";
import { JobsPage } from "./jobs/JobsPage";
import { LiveContext, type Live } from "./live";
import { route, useLocation } from "./router";
import { keepToken, storedToken } from "./session";
import { useStore } from "./store";

export function App({ config }: { config: PageConfig }) {
  const [token, setToken] = useState(config.auth ? storedToken() : null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const refused = useCallback((found: Problem) => {
    keepToken(null);
    setRefusal(found.message);
    setToken(null);
  }, []);
  if (config.auth && token === null) {
    return (
      <TokenForm
        refusal={refusal}
        onToken={(given) => {
          keepToken(given);
          setToken(given);
        }}
      />
    );
  }
  return (
    <Connected
      config={config}
      token={token}
      refused={refused}
      signOut={config.auth ? () => refused({ message: "", unauthenticated: true }) : null}
    />
  );
}

function Connected({ config, token, refused, signOut }: {
  config: PageConfig;
  token: string | null;
  refused: (problem: Problem) => void;
  signOut: (() => void) | null;
}) {
  const connection = useMemo(() => connect(config, token), [config, token]);
  useEffect(() => () => connection.close(), [connection]);
  const live: Live = useMemo(() => ({ connection, refused }), [connection, refused]);
  const current = route(useLocation());
  return (
    <ApolloProvider client={connection.client}>
      <LiveContext.Provider value={live}>
        <header className="top">
          <Link href="/" className="brand">
            jobmonitor
          </Link>
          <SocketState connection={connection} />
          {signOut !== null && (
            <button type="button" onClick={signOut}>
              Forget token
            </button>
          )}
        </header>
        <main>
          {current === null && <p className="empty">No page here.</p>}
          {current?.page === "jobs" && <JobsPage params={current.params} />}
          {current?.page === "job" && <JobPage number={current.number} from={current.from} />}
        </main>
      </LiveContext.Provider>
    </ApolloProvider>
  );
}

function SocketState({ connection }: { connection: Connection }) {
  const state = useStore(connection.socketState);
  const text = {
    connecting: "Connecting…",
    up: "Live",
    down: "Live updates paused: reconnecting…",
  }[state];
  return (
    <span className={`socket socket-${state}`} role="status" data-socket={state}>
      {text}
    </span>
  );
}

function TokenForm({ refusal, onToken }: {
  refusal: string | null;
  onToken: (token: string) => void;
}) {
  const [typed, setTyped] = useState("");
  return (
    <main className="token">
      <h1>jobmonitor</h1>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (typed.trim() !== "") onToken(typed.trim());
        }}
      >
        <label htmlFor="token">API token</label>
        <p className="muted" id="token-help">
          This server needs a token (<code>jobmonitor tokens create --role viewer</code>). It is
          kept for this tab's session only.
        </p>
        <input
          id="token"
          type="password"
          autoComplete="off"
          aria-describedby="token-help"
          value={typed}
          onChange={(event) => setTyped(event.target.value)}
        />
        <button type="submit">Open the jobs</button>
        {refusal !== null && refusal !== "" && (
          <p role="alert" className="failure">
            The server refused the token: {refusal}
          </p>
        )}
      </form>
    </main>
  );
}
