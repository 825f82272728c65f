// What the server tells the page (an inert JSON script in index.html): where the API is and
// whether it needs a token.

export interface PageConfig {
  readonly path: string;
  readonly auth: boolean;
}

export function pageConfig(): PageConfig {
  const element = document.getElementById("jobmonitor-ui");
  const parsed: unknown = JSON.parse(element?.textContent ?? "{}");
  const given = typeof parsed === "object" && parsed !== null ? parsed : {};
  return {
    path: "path" in given && typeof given.path === "string" ? given.path : "/graphql",
    auth: "auth" in given && given.auth === true,
  };
}
