// The load client of bench/peer_postgraphile.py: GraphQL POSTs to several servers, the cases
// taking turns (rotating which goes first) so drift on a noisy machine hits them all alike.
//
//   node peer_load.mjs PLAN.json
//
// The plan: {"modules": DIR, "rounds": R, "sequential": N, "seconds": S, "connections": C,
// "cases": [{"name", "url", "body"}]}; a case whose body is null is a GET. `modules` is the folder whose node_modules holds
// autocannon (the bench installs it beside PostGraphile, outside the repository). Per round
// and case: N requests one after another (milliseconds each, measured here), then autocannon
// with C connections for S seconds (requests per second). Prints one JSON document.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const require = createRequire(join(plan.modules, "package.json"));
const autocannon = require("autocannon");

const headers = { "content-type": "application/json", accept: "application/json" };

// A case with a body is a GraphQL POST; one without is a GET (the plain route, the floor).
function request(testCase) {
  return testCase.body === null
    ? { method: "GET", headers: { accept: "application/json" } }
    : { method: "POST", headers, body: testCase.body };
}

async function once(testCase) {
  const response = await fetch(testCase.url, request(testCase));
  const text = await response.text();
  if (response.status !== 200 || JSON.parse(text).errors !== undefined) {
    throw new Error(`${testCase.name}: ${response.status} ${text.slice(0, 300)}`);
  }
  return text.length;
}

async function sequential(testCase, count) {
  const timings = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    await once(testCase);
    timings.push(performance.now() - started);
  }
  return timings;
}

function concurrent(testCase, connections, seconds) {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: testCase.url,
        ...request(testCase),
        connections,
        duration: seconds,
      },
      (error, result) => {
        if (error) reject(error);
        else if (result.non2xx || result.errors || result.timeouts) {
          reject(new Error(`${testCase.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`));
        } else resolve({ rps: result.requests.total / (result.duration || seconds), p50: result.latency.p50 });
      },
    );
  });
}

const results = Object.fromEntries(
  plan.cases.map((c) => [c.name, { bytes: 0, sequential_ms: [], rps: [], p50_ms: [] }]),
);
for (const testCase of plan.cases) {
  results[testCase.name].bytes = await once(testCase); // warm-up, and a check it answers
}
for (let round = 0; round < plan.rounds; round += 1) {
  const shift = round % plan.cases.length;
  const order = [...plan.cases.slice(shift), ...plan.cases.slice(0, shift)];
  for (const testCase of order) {
    results[testCase.name].sequential_ms.push(...(await sequential(testCase, plan.sequential)));
  }
  if (plan.seconds > 0) {
    for (const testCase of order) {
      const { rps, p50 } = await concurrent(testCase, plan.connections, plan.seconds);
      results[testCase.name].rps.push(rps);
      results[testCase.name].p50_ms.push(p50);
    }
  }
}
process.stdout.write(JSON.stringify(results));
