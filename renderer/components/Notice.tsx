// The two one-line notices every screen shows: work in progress (a spinner) and a failure.

/** "Loading…" with a spinner, announced to screen readers as a status. */
export function Loading({ text, testId }: { text: string; testId?: string }) {
  return (
    <p className="loading" role="status" data-testid={testId}>
      <span className="spinner" aria-hidden="true" /> {text}
    </p>
  );
}

/** A failure the operator must see, announced to screen readers as an alert. */
export function ErrorNote({ text, testId }: { text: string; testId?: string }) {
  return (
    <p className="error" role="alert" data-testid={testId}>
      {text}
    </p>
  );
}
