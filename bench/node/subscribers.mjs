// N graphql-transport-ws subscribers of one operation. Commands on stdin, one per line:
//   report  -> prints {"deliveries", "p50", "p99", "max"} (ms from the event's `at` to arrival)
//              and starts a new measurement
// Prints {"ready": N} once every subscription was sent and acknowledged by the first result
// of a warm-up query. Usage: node subscribers.mjs WS_URL COUNT
import readline from "node:readline";
import WebSocket from "ws";

const [url, countArg] = process.argv.slice(2);
const count = Number(countArg);
const QUERY = "subscription { jobStatusChanged { sequence at status job { number } } }";
const latencies = [];
let closedEarly = 0;

const now = () => performance.timeOrigin + performance.now();

function open() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init" })));
    socket.on("message", (raw) => {
      const message = JSON.parse(raw);
      if (message.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: QUERY } }));
        resolve(socket);
      } else if (message.type === "next") {
        const at = Date.parse(message.payload.data.jobStatusChanged.at);
        latencies.push(now() - at);
      } else if (message.type === "ping") {
        socket.send('{"type":"pong"}');
      }
    });
    socket.on("close", () => { closedEarly += 1; });
    socket.on("error", reject);
  });
}

const BATCH = 200;
for (let opened = 0; opened < count; opened += BATCH) {
  const batch = Math.min(BATCH, count - opened);
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
    process.stdout.write(JSON.stringify({
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
