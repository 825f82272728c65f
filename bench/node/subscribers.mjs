// N graphql-transport-ws subscribers of `jobStatusChanged`, spread over cohorts (one filter
// each, in turn). Commands on stdin, one per line:
//   report  -> prints {"deliveries", "p50", "p99", "max", "closed", "lost"} (ms from the event's
//              `at` to arrival; `lost`: events a subscriber missed that others of its cohort
//              got) and starts a new measurement
// Prints {"ready": N} once every subscription was sent. Usage:
//   node subscribers.mjs WS_URL COUNT [FILTERS_JSON]   (FILTERS_JSON: a list of JobFilter)
import readline from "node:readline";
import WebSocket from "ws";

const [url, countArg, filtersArg] = process.argv.slice(2);
const count = Number(countArg);
const filters = filtersArg ? JSON.parse(filtersArg) : [null];
const QUERY =
  "subscription($filter: JobFilter) { jobStatusChanged(filter: $filter) { sequence at status job { number } } }";
const latencies = [];
let closedEarly = 0;
let opened = 0;
// per cohort: the sequences any of its subscribers saw; per subscriber: how many it saw
const cohortSeen = filters.map(() => new Set());
// per cohort and event: the first and the last arrival (ms after `at`): the first is the
// pipeline (commit, hub, query, serialisation), last - first the send loop over the cohort
const arrivals = filters.map(() => new Map());
const subscribers = [];

const now = () => performance.timeOrigin + performance.now();

function open() {
  const cohort = opened++ % filters.length;
  const mine = { cohort, seen: 0 };
  subscribers.push(mine);
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init" })));
    socket.on("message", (raw) => {
      const message = JSON.parse(raw);
      if (message.type === "connection_ack") {
        const variables = { filter: filters[cohort] };
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: QUERY, variables } }));
        resolve(socket);
      } else if (message.type === "next") {
        const event = message.payload.data.jobStatusChanged;
        const latency = now() - Date.parse(event.at);
        latencies.push(latency);
        const seen = arrivals[cohort].get(event.sequence);
        if (seen === undefined) arrivals[cohort].set(event.sequence, [latency, latency]);
        else seen[1] = latency;
        cohortSeen[cohort].add(event.sequence);
        mine.seen += 1;
      } else if (message.type === "ping") {
        socket.send('{"type":"pong"}');
      }
    });
    socket.on("close", () => { closedEarly += 1; });
    socket.on("error", reject);
  });
}

const BATCH = 200;
for (let started = 0; started < count; started += BATCH) {
  const batch = Math.min(BATCH, count - started);
  await Promise.all(Array.from({ length: batch }, open));
}
process.stdout.write(JSON.stringify({ ready: count }) + "\n");

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "report") {
    const sorted = latencies.splice(0).sort((a, b) => a - b);
    let lost = 0;
    for (const subscriber of subscribers) {
      lost += cohortSeen[subscriber.cohort].size - subscriber.seen;
      subscriber.seen = 0;
    }
    cohortSeen.forEach((seen) => seen.clear());
    const firsts = [];
    const spreads = [];
    for (const events of arrivals) {
      for (const [first, last] of events.values()) {
        firsts.push(first);
        spreads.push(last - first);
      }
      events.clear();
    }
    firsts.sort((a, b) => a - b);
    spreads.sort((a, b) => a - b);
    process.stdout.write(JSON.stringify({
      lost,
      first_p50: percentile(firsts, 50),
      first_p99: percentile(firsts, 99),
      spread_p50: percentile(spreads, 50),
      spread_p99: percentile(spreads, 99),
      deliveries: sorted.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      max: sorted.length ? sorted[sorted.length - 1] : null,
      closed: closedEarly,
    }) + "\n");
  } else if (line.trim() === "exit") {
    process.exit(0);
  }
});
