// What staff must not miss, on every screen: the automatic teardown's countdown, a
// doubt about the time and a printer that needs a person, each with its buttons, and
// the answer to the last tap on them.
// Shown under the header on the booth screen, and at the top of whichever sheet is open
// (the app passes it to `Sheet` through `SheetAlerts`), so it is never behind a sheet
// and its buttons are always within reach. While a countdown runs, it stays in view
// when the screen scrolls.

import { useLayoutEffect, useRef } from 'preact/hooks';
import type { PrinterView } from '../../api';
import { ClockNotice } from '../clock/clock-notice';
import type { ClockWatch } from '../clock/watch';
import { PrinterNotice } from '../printers/printer-notice';
import { needingAttention } from '../printers/printer-words';
import { CountdownBanner, type TeardownWatch } from '../teardown/countdown';
import type { Message } from '../../lib/polled';

export function Alerts({ clock, teardown, timeZone, onClockDetails, printers, onPrinters }: {
  clock: ClockWatch;
  teardown: TeardownWatch;
  timeZone: string;
  /** Opens the time screen; null when it is the one open. */
  onClockDetails: (() => void) | null;
  /** The booth's printers (null: not shown here, or not known yet). */
  printers: PrinterView[] | null;
  /** Opens the Printers screen; null when it is the one shown. */
  onPrinters: (() => void) | null;
}) {
  const counting = !!teardown.countdown;
  const printerTrouble = needingAttention(printers).length > 0;
  if (!counting && !clock.view?.in_doubt && !clock.message && !teardown.message && !printerTrouble) return null;
  return (
    <div class={`alerts${counting ? ' pinned' : ''}`} data-alerts="" data-testid="alerts">
      {teardown.message && <Answer message={teardown.message} testid="countdown-message" onDismiss={teardown.dismiss} />}
      <CountdownBanner watch={teardown} timeZone={timeZone} />
      {clock.message && <Answer message={clock.message} testid="clock-message" onDismiss={clock.dismiss} />}
      <ClockNotice watch={clock} timeZone={timeZone} onDetails={onClockDetails} />
      <PrinterNotice printers={printers} onOpen={onPrinters} />
    </div>
  );
}

/**
 * The answer to a tap on a banner that the tap took away: it takes the focus the banner
 * had (or that fell to the page), so a keyboard user is not sent back to the top.
 */
function Answer({ message, testid, onDismiss }: { message: Message; testid: string; onDismiss: () => void }) {
  const self = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const a = document.activeElement;
    if (!a || a === document.body || a.closest('[data-alerts]')) self.current?.focus();
  }, [message]);
  return (
    <div class={`notice ${message.tone} answer`} role="status" tabIndex={-1} ref={self} data-testid={testid}>
      <span>{message.text}</span>
      <button type="button" class="big-button" onClick={onDismiss}>OK</button>
    </div>
  );
}
