// jobmonitor's GraphiQL: GraphiQL with the explorer plugin, queries and mutations over HTTP and
// subscriptions over graphql-ws, both to this page's own origin. Everything it needs is in this
// bundle: the page makes no request beyond its own server.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { GraphiQL } from "graphiql";
import { getOperationAST, parse } from "graphql";
import { createClient } from "graphql-ws";
import React from "react";
import { createRoot } from "react-dom/client";

import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";

const config = JSON.parse(document.getElementById("jobmonitor-graphiql").textContent);
const httpUrl = new URL(config.path, window.location.href).href;
const wsUrl = httpUrl.replace(/^http/, "ws");

const overHttp = createGraphiQLFetcher({ url: httpUrl });

// One websocket per set of headers: the token typed in the headers editor goes in
// connection_init, as the server expects it.
const sockets = new Map();
function socketFor(headers) {
  const key = JSON.stringify(headers ?? {});
  if (!sockets.has(key)) {
    sockets.set(key, createClient({ url: wsUrl, connectionParams: headers ?? {}, lazy: true }));
  }
  return sockets.get(key);
}

function isSubscription(params) {
  try {
    const operation = getOperationAST(parse(params.query), params.operationName);
    return operation?.operation === "subscription";
  } catch {
    return false;
  }
}

function fetcher(params, options) {
  if (isSubscription(params)) {
    return socketFor(options?.headers).iterate(params);
  }
  return overHttp(params, options);
}

const explorer = explorerPlugin();
const defaultHeaders = config.auth
  ? JSON.stringify({ Authorization: "Bearer " }, null, 2)
  : undefined;

createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    plugins: [explorer],
    defaultHeaders,
    defaultEditorToolsVisibility: config.auth ? "headers" : undefined,
  }),
);
