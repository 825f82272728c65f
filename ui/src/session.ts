// The API token, kept for this browser tab's session only (sessionStorage), when the server
// needs one.
const KEY = "jobmonitor.token";

export function storedToken(): string | null {
  return window.sessionStorage.getItem(KEY);
}

export function keepToken(token: string | null): void {
  if (token === null) window.sessionStorage.removeItem(KEY);
  else window.sessionStorage.setItem(KEY, token);
}
