// Apollo Client's persisted-query link against jobmonitor: the same query three times
// (network-only), over POST or GET. Prints one JSON line per HTTP request the link made
// ({method, sentQuery, status, errorCodes}) and one with each query's data.
// ALIAS names the field, so that each run asks a query the server has not seen.
// Usage: node persisted.mjs HTTP_URL post|get ALIAS
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { parse } from "graphql";

const [httpUrl, method, alias] = process.argv.slice(2);
const print = (kind, data) => process.stdout.write(JSON.stringify({ kind, data }) + "\n");

async function recordingFetch(url, options) {
  const sentQuery =
    options.method === "GET"
      ? new URL(url).searchParams.has("query")
      : JSON.parse(options.body).query !== undefined;
  const response = await fetch(url, options);
  const body = await response.clone().json();
  const errorCodes = (body.errors ?? []).map((error) => error.extensions?.code ?? error.message);
  print("request", { method: options.method, sentQuery, status: response.status, errorCodes });
  return response;
}

const link = createPersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: method === "get",
}).concat(new HttpLink({ uri: httpUrl, fetch: recordingFetch }));
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const query = parse(`query PersistedPage { ${alias}: jobs(first: 5) { totalCount } }`);
for (let round = 0; round < 3; round += 1) {
  const { data } = await client.query({ query, fetchPolicy: "network-only" });
  print("data", data);
}
