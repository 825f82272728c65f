// A card of a job's input or output: one row per key of an object, the value itself otherwise.
export function JsonCard({ title, value }: { title: string; value: unknown }) {
  const id = `${title.toLowerCase()}-title`;
  const entries =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? Object.entries(value)
      : null;
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {entries === null && <pre>{shown(value)}</pre>}
      {entries?.length === 0 && <p className="muted">None</p>}
      {entries !== null && entries.length > 0 && (
        <dl className="values">
          {entries.map(([key, item]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{shown(item)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function shown(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
