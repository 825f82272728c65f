// The graphql-http audit (the GraphQL-over-HTTP spec's checks) against a running jobmonitor.
// Prints one JSON line: {"results": [{"id", "name", "status", "reason"}]}.
// Usage: node audit.mjs HTTP_URL
import { auditServer } from "graphql-http";

const [url] = process.argv.slice(2);
const results = await auditServer({ url });
const summary = [];
for (const result of results) {
  summary.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === "ok" ? null : result.reason,
  });
}
process.stdout.write(JSON.stringify({ results: summary }) + "\n");
