// The Teardown screen: the end of the event. Before it starts: what it will do, when
// the booth closes by itself (or that it no longer will), the folder for what the hub
// does not have, and a hold-to-confirm button. Once started: every step with its state
// and what it did, what it is waiting for in words, and a hold-to-continue when it
// stopped (for a folder, or after the laptop went down). A booth the event's end time
// closed can be reopened with a hold until the wipe has run. When the node stops at the
// end, the last progress stays on screen. (The countdown before an automatic close is
// on every screen: `countdown.tsx`.)

import { useEffect, useState } from 'preact/hooks';
import type { Connection, TeardownView } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { Sheet } from '../../components/sheet';
import { automaticTeardown, sentence, stepState, teardownSummary } from '../../lib/format';
import { useAction, usePolled } from '../../lib/polled';

const REFRESH_MS = 1_000;
/** Longer than the other holds: teardown cannot be undone. */
const HOLD_TEARDOWN_MS = 3_000;

/** What reopening means for the kiosks, phones and booths, when the keys were already replaced. */
const KEYS_REPLACED = 'The keys were already replaced: kiosks get new quotes, phones need new upload tokens, and paired booths must pair again.';

export function Teardown({ conn, timeZone, onClose }: { conn: Connection; timeZone: string; onClose: () => void }) {
  const { data, problem, refresh } = usePolled(() => conn.teardown(), REFRESH_MS);
  const { message, setMessage, act } = useAction(refresh);
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
  const reopen = async (before: TeardownView) => {
    const keys = before.steps.some((s) => s.step === 'keys' && s.state === 'done');
    try {
      await conn.reopenBooth();
      setMessage({
        tone: 'good',
        // The line under it says the end time will not close the booth again.
        text: `The booth is open again: kiosks can order.${keys ? ` ${KEYS_REPLACED}` : ''}`,
      });
    } catch (e) {
      setMessage({ tone: 'bad', text: `Not reopened. ${sentence(e instanceof Error ? e.message : String(e))}` });
    }
    refresh();
  };

  return (
    <Sheet title="End of event: teardown" testid="teardown" onClose={onClose}>
      {summary && data?.state !== 'not_started' && (
        <p class={`notice ${summary.tone}`} role="status" data-testid="teardown-summary">{summary.text}</p>
      )}
      {gone && <p class="notice good" role="status" data-testid="teardown-stopped">The booth node has stopped. You can close Boothcloud.</p>}
      {problem && !gone && <p class="notice bad" role="alert">{problem}</p>}
      {message && !gone && !(message.tone === 'good' && summary?.tone === 'bad') && <p class={`notice ${message.tone}`} role="status" data-testid="teardown-message">{message.text}</p>}
      {data && automaticTeardown(data, timeZone).map((l) => (
        <p key={l.key} class={l.tone === 'warn' ? 'notice warn' : 'lead'} role="status" data-testid={`teardown-${l.key}`}>{l.text}</p>
      ))}
      {data?.reopenable && !gone && (
        <div class="reopen" data-testid="reopen">
          <p>
            <strong>The event's end time closed this booth.</strong> If the event is still on, reopen it: kiosks can order again, and the
            end time will not close it again.{data.steps.some((s) => s.step === 'keys' && s.state === 'done') ? ` ${KEYS_REPLACED}` : ''}
          </p>
          <HoldButton label="Reopen the booth" hint="Hold 2 s · kiosks can order again" testid="reopen-booth" onConfirm={() => void reopen(data)} />
        </div>
      )}
      {data?.state === 'not_started' && (
        <p>
          Teardown ends the event on this laptop and cannot be undone. Kiosks are told the booth is closed, every order goes
          to the hub (or into the folder below), the report is written, the keys are replaced, and customers' details, the
          cache and the media are wiped. Then the node stops.
          {data.orders_at_risk > 0 && <strong> {data.orders_at_risk === 1 ? '1 order is' : `${data.orders_at_risk} orders are`} not at the hub yet.</strong>}
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
