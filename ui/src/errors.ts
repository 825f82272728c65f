// What went wrong, in words a person can act on.
import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

export interface Problem {
  readonly message: string;
  /** The server wants a (valid) token. */
  readonly unauthenticated: boolean;
}

export function problem(error: unknown): Problem {
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    return {
      message: first?.message ?? error.message,
      unauthenticated: first?.extensions?.["code"] === "UNAUTHENTICATED",
    };
  }
  if (ServerError.is(error)) {
    const unauthenticated = error.statusCode === 401;
    try {
      const body = JSON.parse(error.bodyText) as { errors?: { message?: string }[] };
      const message = body.errors?.[0]?.message;
      if (message !== undefined) return { message, unauthenticated };
    } catch {
      // not JSON: the status says it all
    }
    return { message: `the server answered ${error.statusCode}`, unauthenticated };
  }
  return {
    message: error instanceof Error ? error.message : String(error),
    unauthenticated: false,
  };
}
