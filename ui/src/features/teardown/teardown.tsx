// The Teardown screen: the end of the event. Before it starts: what it will do, the
// folder for what the hub does not have, and a hold-to-confirm button. Once started:
// every step with its state and what it did, what it is waiting for in words, and a
// hold-to-continue when it stopped (for a folder, or after the laptop went down).
// When the node stops at the end, the last progress stays on screen.

import { useEffect, useState } from 'preact/hooks';
import type { Connection } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { Sheet } from '../../components/sheet';
import { stepState, teardownSummary } from '../../lib/format';
import { useAction, usePolled } from '../../lib/polled';

const REFRESH_MS = 1_000;
/** Longer than the other holds: teardown cannot be undone. */
const HOLD_TEARDOWN_MS = 3_000;

export function Teardown({ conn, onClose }: { conn: Connection; onClose: () => void }) {
  const { data, problem, refresh } = usePolled(() => conn.teardown(), REFRESH_MS);
  const { message, act } = useAction(refresh);
  const [folder, setFolder] = useState<string | null>(null);
  useEffect(() => {
    if (data && folder === null) setFolder(data.export_dir ?? data.suggested_export_dir);
  }, [data]);
  const lastStepStarted = data?.state === 'finished' || data?.steps.some((s) => s.step === 'stop' && s.state !== 'pending');
  const gone = problem !== null && lastStepStarted;
  const start = (verb: string) =>
    void act(() => conn.startTeardown(folder?.trim() || null), `${verb}: the booth takes no new orders. Progress shows below.`);
  const summary = data ? teardownSummary(data) : null;
  const canGo = data && (data.state === 'not_started' || data.state === 'blocked' || data.state === 'failed' || data.state === 'interrupted');

  return (
    <Sheet title="End of event: teardown" testid="teardown" onClose={onClose}>
      {summary && data?.state !== 'not_started' && (
        <p class={`notice ${summary.tone}`} role="status" data-testid="teardown-summary">{summary.text}</p>
      )}
      {gone && <p class="notice good" role="status" data-testid="teardown-stopped">The booth node has stopped. You can close Boothcloud.</p>}
      {problem && !gone && <p class="notice bad" role="alert">{problem}</p>}
      {message && !gone && !(message.tone === 'good' && summary?.tone === 'bad') && <p class={`notice ${message.tone}`} role="status" data-testid="teardown-message">{message.text}</p>}
      {data?.state === 'not_started' && (
        <p>
          Teardown ends the event on this laptop and cannot be undone. Kiosks are told the booth is closed, every order goes
          to the hub (or into the folder below), the report is written, the keys are replaced, and customers' details, the
          cache and the media are wiped. Then the node stops.
          {data.orders_at_risk > 0 && <strong> {data.orders_at_risk} orders are not at the hub yet.</strong>}
        </p>
      )}
      {data && (
        <ol class="teardown-steps" data-testid="teardown-steps">
          {data.steps.map((s) => (
            <li key={s.step} class={`teardown-step ${s.state}`} data-testid={`teardown-step-${s.step}`} data-state={s.state}>
              <span class="step-title">{s.title}</span>
              <span class={`state ${s.state === 'done' ? 'ok' : s.state === 'pending' ? '' : s.state === 'running' ? 'warn' : 'over'}`}>
                {stepState(s.state)}
              </span>
              {s.detail && <span class="sub">{s.detail}</span>}
            </li>
          ))}
        </ol>
      )}
      {canGo && (
        <>
          <label class="field">
            <span>Folder for orders and media the hub does not have, and for the report</span>
            <input type="text" value={folder ?? ''} data-testid="export-dir" spellcheck={false}
              onInput={(e) => setFolder((e.currentTarget as HTMLInputElement).value)} />
          </label>
          <div class="buttons">
            {conn.canChooseFolder && (
              <button type="button" class="big-button" data-testid="choose-folder"
                onClick={() => void conn.chooseFolder('Folder for the booth\'s orders, media and report').then((f) => f && setFolder(f))}>
                Choose folder…
              </button>
            )}
            {data.state === 'not_started'
              ? <HoldButton label="Tear down the booth" hint="Hold 3 s · cannot be undone" holdMs={HOLD_TEARDOWN_MS} testid="start-teardown"
                  onConfirm={() => start('Teardown started')} />
              : <HoldButton label="Continue teardown" hint="Hold 3 s" holdMs={HOLD_TEARDOWN_MS} testid="continue-teardown"
                  onConfirm={() => start('Teardown continues')} />}
          </div>
        </>
      )}
    </Sheet>
  );
}
