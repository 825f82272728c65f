// The Apollo client: queries and mutations over HTTP, subscriptions over one graphql-ws socket,
// both to this page's own server, with the session's token when the server needs one.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition, relayStylePagination } from "@apollo/client/utilities";
import { OperationTypeNode } from "graphql";
import { createClient, type Client } from "graphql-ws";

import type { PageConfig } from "./config";
import { Store } from "./store";

export type SocketState = "connecting" | "up" | "down";
const RETRY_CAP_MS = 5000;

export interface Connection {
  readonly client: ApolloClient;
  readonly socket: Client;
  readonly socketState: Store<SocketState>;
  readonly token: string | null;
  close(): void;
}

export function connect(config: PageConfig, token: string | null): Connection {
  const httpUrl = new URL(config.path, window.location.href).href;
  const authorization: Record<string, string> =
    token === null ? {} : { Authorization: `Bearer ${token}` };
  const socketState = new Store<SocketState>("connecting");
  const socket = createClient({
    url: httpUrl.replace(/^http/, "ws"),
    connectionParams: authorization,
    lazy: false,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_CAP_MS, 500 * 2 ** retries))),
    on: {
      connected: () => socketState.set("up"),
      closed: () => socketState.set("down"),
    },
    onNonLazyError: () => socketState.set("down"),
  });
  const overHttp = new SetContextLink((previous) => ({
    headers: { ...(previous["headers"] as Record<string, string> | undefined), ...authorization },
  })).concat(new HttpLink({ uri: httpUrl }));
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return (
        definition.kind === "OperationDefinition" &&
        definition.operation === OperationTypeNode.SUBSCRIPTION
      );
    },
    new GraphQLWsLink(socket),
    overHttp,
  );
  const cache = new InMemoryCache({
    typePolicies: {
      Query: { fields: { jobs: relayStylePagination(["filter"]) } },
      Job: {
        fields: {
          steps: { merge: false },
          events: { merge: false },
          timeline: { merge: false },
        },
      },
    },
  });
  const client = new ApolloClient({ link, cache });
  return {
    client,
    socket,
    socketState,
    token,
    close() {
      client.stop();
      void socket.dispose();
    },
  };
}
