// Apollo Client asks for the page with each job's timeline under @defer, over HTTP multipart
// (multipart/mixed), and prints one JSON line per result it hands to the application, until
// every job has its timeline.
// Usage: node defer.mjs HTTP_URL
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";

const [httpUrl] = process.argv.slice(2);
const client = new ApolloClient({ link: new HttpLink({ uri: httpUrl }), cache: new InMemoryCache() });

const query = gql`
  query DeferredPage {
    jobs(first: 5) {
      edges {
        node {
          id
          number
          status
          ... @defer {
            timeline {
              available
              unavailableReason
            }
          }
        }
      }
    }
  }
`;

client.watchQuery({ query, fetchPolicy: "network-only" }).subscribe({
  next: ({ data, loading }) => {
    const nodes = (data?.jobs?.edges ?? []).map((edge) => edge.node);
    process.stdout.write(JSON.stringify({ loading, nodes }) + "\n");
    if (nodes.length > 0 && nodes.every((node) => node.timeline)) {
      process.exit(0);
    }
  },
  error: (error) => {
    process.stdout.write(JSON.stringify({ error: String(error) }) + "\n");
    process.exit(1);
  },
});
