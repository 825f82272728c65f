// A card of named values (a job's input or output): one row per key, JSON for the nested ones.
export function JsonCard({ title, value }: { title: string; value: Record<string, unknown> }) {
  const id = `${title.toLowerCase()}-title`;
  const entries = Object.entries(value);
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {entries.length === 0 ? (
        <p className="muted">None</p>
      ) : (
        <dl className="values">
          {entries.map(([key, item]) => (
            <div key={key}>
              <dt>{key}</dt>
              <dd>{typeof item === "string" ? item : JSON.stringify(item)}</dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}
