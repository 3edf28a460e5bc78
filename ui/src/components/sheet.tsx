// Sheet: a full-screen view over the booth screen — the Sync, Media, Devices, Fleet,
// Runbooks and Teardown screens and a tile's detail view — with a title, its actions and
// one big Close button. It is a modal dialog: the booth screen behind it is inert, focus
// moves into it when it opens, Tab and Shift+Tab go round inside it, Escape closes it,
// and focus goes back to the control that opened it. What staff must not miss (the
// app's alerts, given through `SheetAlerts`) shows under its title, inside the dialog.

import { type ComponentChildren, createContext } from 'preact';
import { useContext, useLayoutEffect, useRef } from 'preact/hooks';

/** What every sheet shows under its title: the booth's alerts, which the sheet would hide. */
export const SheetAlerts = createContext<ComponentChildren>(null);

const FOCUSABLE = [
  'a[href]', 'button:not([disabled])', 'input:not([disabled]):not([type="hidden"])', 'select:not([disabled])', 'textarea:not([disabled])',
  'video[controls]', 'audio[controls]', '[tabindex]', '[contenteditable="true"]',
].join(', ');

/** What Tab reaches inside `root`, in order: shown, enabled, not taken out of the order. */
function tabbable(root: HTMLElement): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
    (e) => e.tabIndex >= 0 && e.getClientRects().length > 0 && !e.closest('[inert]'),
  );
}

// The control that opens a sheet: the one last pressed by finger or mouse — a tap does
// not focus a button on iPad Safari (an ops lead's tablet) or in macOS WebKit, so focus
// may still sit on an older control — or, after a key, the focused one.
let pressed: HTMLElement | null = null;
if (typeof document !== 'undefined') {
  document.addEventListener(
    'pointerdown',
    (e) => {
      pressed = e.target instanceof Element ? e.target.closest<HTMLElement>('button, a[href], input, [tabindex]') : null;
    },
    true,
  );
  document.addEventListener('keydown', () => (pressed = null), true);
}

export function Sheet({ title, testid, onClose, actions, children }: {
  title: string;
  testid: string;
  onClose: () => void;
  /** Buttons beside Close, in the sheet's head. */
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  const root = useRef<HTMLDivElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  // The latest onClose, read by the key handler: the booth screen re-renders with every
  // live update, and re-running the effect then would move focus (and scroll the sheet)
  // back to Close under the operator's finger.
  const latest = useRef(onClose);
  latest.current = onClose;
  const alerts = useContext(SheetAlerts);

  useLayoutEffect(() => {
    const dialog = root.current!;
    const focused = document.activeElement;
    const opener = pressed ?? (focused instanceof HTMLElement && focused !== document.body ? focused : null);
    // The booth screen behind is out of reach (Tab, taps, screen readers) while open.
    const behind = Array.from(dialog.parentElement?.children ?? []).filter(
      (e): e is HTMLElement => e !== dialog && e instanceof HTMLElement && !e.inert,
    );
    for (const e of behind) e.inert = true;
    close.current?.focus();

    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        latest.current();
        return;
      }
      if (e.key !== 'Tab') return;
      // Round at either end; from anywhere else that is not a stop (the sheet itself,
      // nothing), to the first or the last stop.
      const inside = tabbable(dialog);
      const at = inside.indexOf(document.activeElement as HTMLElement);
      const next = e.shiftKey ? (at <= 0 ? inside.length - 1 : null) : at === -1 || at === inside.length - 1 ? 0 : null;
      if (inside.length === 0) e.preventDefault();
      else if (next !== null) {
        e.preventDefault();
        inside[next].focus();
      }
    };
    // Focus that lands outside by any other way (the browser's own bar, a script) comes back.
    const onFocusIn = (e: FocusEvent) => {
      if (e.target instanceof Node && !dialog.contains(e.target)) (tabbable(dialog)[0] ?? panel.current)?.focus();
    };
    window.addEventListener('keydown', onKey);
    document.addEventListener('focusin', onFocusIn);
    return () => {
      window.removeEventListener('keydown', onKey);
      document.removeEventListener('focusin', onFocusIn);
      for (const e of behind) e.inert = false;
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  return (
    <div class="overlay" ref={root} role="dialog" aria-modal="true" aria-labelledby={`${testid}-title`} data-testid={testid}>
      <div class="detail" ref={panel} tabIndex={-1}>
        <div class="detail-head">
          <h2 id={`${testid}-title`}>{title}</h2>
          <div class="buttons">
            {actions}
            <button type="button" class="big-button primary" ref={close} onClick={onClose}>Close</button>
          </div>
        </div>
        {alerts}
        {children}
      </div>
    </div>
  );
}
