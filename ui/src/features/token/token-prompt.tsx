// The token prompt: asks for the operator token once, in a browser (the desktop app
// never asks), before the booth screen opens.

import { useState } from 'preact/hooks';

export function TokenPrompt({ refused, onToken }: { refused: boolean; onToken: (token: string) => Promise<void> }) {
  const [value, setValue] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main class="centre">
      <form
        class="token-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setProblem(null);
          try {
            await onToken(value);
          } catch (err) {
            setProblem(err instanceof Error ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h1>Open the booth dashboard</h1>
        <p>
          Enter the booth’s operator token. On the booth laptop, <code>boothcloud-node operator-token</code> shows it. This
          browser remembers it.
        </p>
        <label for="token">Operator token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required minLength={16} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        {refused && (
          <p class="notice bad" role="alert" data-testid="token-refused">
            That token was not accepted. Check it on the booth laptop and try again.
          </p>
        )}
        {problem && (
          <p class="notice bad" role="alert">
            {problem}
          </p>
        )}
        <button type="submit" class="big-button primary" disabled={busy}>
          Open dashboard
        </button>
      </form>
    </main>
  );
}
