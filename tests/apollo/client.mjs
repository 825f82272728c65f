// A real Apollo Client against jobmonitor: one query over HTTP, then one subscription over
// graphql-transport-ws. Prints one JSON line per result; exits after the first pushed update.
// Usage: node client.mjs HTTP_URL WS_URL JOB_ID JOB_NUMBER
import { ApolloClient, HttpLink, InMemoryCache, gql, split } from "@apollo/client/core/index.js";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions/index.js";
import { getMainDefinition } from "@apollo/client/utilities/index.js";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [httpUrl, wsUrl, jobId, jobNumber] = process.argv.slice(2);

const wsClient = createClient({ url: wsUrl, webSocketImpl: WebSocket, lazy: false });
const link = split(
  ({ query }) => {
    const definition = getMainDefinition(query);
    return definition.kind === "OperationDefinition" && definition.operation === "subscription";
  },
  new GraphQLWsLink(wsClient),
  new HttpLink({ uri: httpUrl }),
);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const print = (kind, data) => process.stdout.write(JSON.stringify({ kind, data }) + "\n");

const { data } = await client.query({
  query: gql`query Job($number: Int!) { job(number: $number) { id number status } }`,
  variables: { number: Number(jobNumber) },
});
print("query", data);

client
  .subscribe({
    query: gql`subscription Updated($id: ID!) { jobUpdated(id: $id) { id number status } }`,
    variables: { id: jobId },
  })
  .subscribe({
    next: ({ data }) => {
      print("subscription", data);
      wsClient.dispose();
      process.exit(0);
    },
    error: (error) => {
      print("error", String(error));
      process.exit(1);
    },
  });
