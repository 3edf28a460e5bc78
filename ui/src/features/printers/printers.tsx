// The Printers screen: one card per printer of the manifest — its name, what it prints,
// its state and paper in words on solid colours, why it needs attention (the node's
// words), its queue (waiting, held after an outage, needing a person) and when it last
// printed — and, when it held jobs through an outage, the one button that prints them
// ("Print 14 waiting tickets?"); a test page, Pause / Resume printing, and the ticket
// as this printer's paper shows it. Refreshed every 2 s while shown (`watch.ts`).

import { useEffect, useState } from 'preact/hooks';
import { ApiError, type PrinterView } from '../../api';
import { t, tn } from '../../i18n';
import { type Message, useFleetingMessage } from '../../lib/polled';
import { lastPrinted, paperState, printerState, releaseLabel, roleWords } from './printer-words';
import type { PrinterWatch } from './watch';

export function Printers({ watch, timeZone }: { watch: PrinterWatch; timeZone: string }) {
  const [message, setMessage] = useFleetingMessage();
  const { printers, problem } = watch;
  const now = new Date();
  return (
    <section class="printers" aria-labelledby="printers-title" data-testid="printers">
      <div class="printers-head">
        <h2 id="printers-title">{t('printers.title')}</h2>
        <p>{t('printers.intro')}</p>
      </div>
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="printers-message">{message.text}</p>}
      {problem && <p class="notice bad" role="alert" data-testid="printers-problem">{t('printers.problem', { message: problem })}</p>}
      {printers === null && !problem && <p class="loading" aria-busy="true">{t('common.loading')}</p>}
      {printers?.length === 0 && <p class="empty" data-testid="printers-none">{t('printers.none')}</p>}
      {printers && printers.length > 0 && (
        <ul class="printer-cards">
          {printers.map((p) => (
            <li key={p.name}>
              <PrinterCard printer={p} now={now} timeZone={timeZone} watch={watch} onMessage={setMessage} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function PrinterCard({ printer: p, now, timeZone, watch, onMessage }: {
  printer: PrinterView;
  now: Date;
  timeZone: string;
  watch: PrinterWatch;
  onMessage: (m: Message | null) => void;
}) {
  const [busy, setBusy] = useState(false);
  const state = printerState(p.state);
  const paper = paperState(p.paper);
  const title = `printer-${p.name}`;
  const act = async (what: (api: NonNullable<PrinterWatch['api']>) => Promise<string>) => {
    if (!watch.api) return;
    setBusy(true);
    try {
      onMessage({ tone: 'good', text: await what(watch.api) });
    } catch (e) {
      const text = e instanceof ApiError && e.unreachable ? t('error.unreachable') : t('error.other', { message: e instanceof Error ? e.message : String(e) });
      onMessage({ tone: 'bad', text });
    } finally {
      setBusy(false);
      watch.refresh();
    }
  };
  const release = () => act(async (api) => tn('printers.released', await api.release(p.name)));
  const testPrint = () => act(async (api) => (await api.testPrint(p.name), t('printers.test_sent', { name: p.name })));
  const togglePause = () =>
    act(async (api) => (await api.setPaused(p.name, !p.paused), t(p.paused ? 'printers.resumed_done' : 'printers.paused_done', { name: p.name })));
  return (
    <article class={`printer-card ${state.tone}`} aria-labelledby={title} data-testid="printer-card" data-printer={p.name} data-state={p.state}>
      <div class="printer-head">
        <div>
          <h3 class="printer-name" id={title}>{p.name}</h3>
          <p class="printer-role" data-testid="printer-role">{roleWords(p.role)}</p>
        </div>
        <span class={`printer-state ${state.tone}`} data-testid="printer-state">{state.text}</span>
      </div>
      {p.detail && <p class={`printer-detail ${state.tone}`} data-testid="printer-detail">{p.detail}</p>}
      {p.logo_problem && <p class="printer-detail" data-testid="printer-logo-problem">{t('printers.no_logo', { why: p.logo_problem })}</p>}
      {/* The one thing to do, high on the card where it is seen first. */}
      {p.held > 0 && (
        <div class="printer-release">
          <button type="button" class="big-button primary" data-testid="printer-release" disabled={busy} onClick={() => void release()}>
            {releaseLabel(p)}
          </button>
          <p>{t('printers.release_hint')}</p>
        </div>
      )}
      <dl class="printer-figures">
        <div>
          <dt>{t('printers.paper')}</dt>
          <dd class={`printer-paper ${paper.tone}`} data-testid="printer-paper">{paper.text}</dd>
        </div>
        <div>
          <dt>{t('printers.queued')}</dt>
          <dd data-testid="printer-queued">{p.queued}</dd>
        </div>
        <div>
          <dt>{t('printers.held')}</dt>
          <dd data-testid="printer-held">{p.held}</dd>
        </div>
        <div>
          <dt>{t('printers.attention')}</dt>
          <dd data-testid="printer-attention">{p.attention}</dd>
        </div>
        <div class="wide">
          <dt>{t('printers.last_printed')}</dt>
          <dd class="small" data-testid="printer-last">{lastPrinted(p.last_printed, now, timeZone)}</dd>
        </div>
      </dl>
      {p.paused && <p class="printer-detail" data-testid="printer-paused">{t('printers.paused_hint')}</p>}
      <div class="printer-actions">
        <button type="button" class="big-button" data-testid="printer-test" disabled={busy || p.paused} onClick={() => void testPrint()}>
          {t('printers.test_print')}
        </button>
        <button type="button" class={`big-button${p.paused ? ' primary' : ''}`} data-testid="printer-pause" disabled={busy} onClick={() => void togglePause()}>
          {p.paused ? t('printers.resume') : t('printers.pause')}
        </button>
        <Preview printer={p.name} watch={watch} />
      </div>
      <p class="printer-address" data-testid="printer-address">
        {t('printers.address')}: {p.uri}{p.identity !== p.uri ? ` · ${p.identity}` : ''}
      </p>
    </article>
  );
}

/** The ticket as this printer's paper shows it, drawn by the node, on request. */
function Preview({ printer, watch }: { printer: string; watch: PrinterWatch }) {
  const [shown, setShown] = useState(false);
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    if (!shown || !watch.api) return;
    const asked = new AbortController();
    let url: string | null = null;
    setFailed(null);
    watch.api.preview(printer, asked.signal).then((blob) => {
      url = URL.createObjectURL(blob);
      setSrc(url);
    }, (e: unknown) => {
      if (!asked.signal.aborted) setFailed(e instanceof ApiError && e.unreachable ? t('error.unreachable') : t('error.other', { message: e instanceof Error ? e.message : String(e) }));
    });
    return () => {
      asked.abort();
      if (url) URL.revokeObjectURL(url);
      setSrc(null);
    };
  }, [shown, printer, watch.api]);
  return (
    <>
      <button type="button" class="big-button" aria-expanded={shown} data-testid="printer-preview-toggle" onClick={() => setShown(!shown)}>
        {shown ? t('printers.preview_hide') : t('printers.preview')}
      </button>
      {shown && (
        <div class="printer-preview">
          {src ? <img src={src} alt={t('printers.preview_alt', { name: printer })} data-testid="printer-preview" />
            : failed ? <p class="notice bad" role="alert">{failed}</p>
            : <p class="loading" aria-busy="true">{t('common.loading')}</p>}
        </div>
      )}
    </>
  );
}
