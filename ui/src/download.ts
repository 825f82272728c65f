// Downloads from the server (the whole log, an artifact) with the session's token: a link
// cannot send a header, so the file is fetched and handed to the browser.
export async function download(url: string, token: string | null, name: string): Promise<void> {
  const response = await fetch(url, {
    headers: token === null ? {} : { Authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  const href = URL.createObjectURL(await response.blob());
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.download = name;
  anchor.click();
  URL.revokeObjectURL(href);
}
