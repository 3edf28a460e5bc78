// HoldButton: hold-to-confirm, the button for actions that cannot be taken back (empty
// the cache, delete, revoke, unpair, run a runbook, tear down). A tap does nothing but
// say how to confirm; holding it (finger, mouse, or Space/Enter) for the whole time fills
// it and then acts. Letting go early, or sliding off, cancels.

import { useEffect, useRef, useState } from 'preact/hooks';

export const HOLD_MS = 2000;

export function HoldButton({
  label,
  hint,
  onConfirm,
  disabled = false,
  testid,
  holdMs = HOLD_MS,
}: {
  label: string;
  hint: string;
  onConfirm: () => void;
  disabled?: boolean;
  testid: string;
  holdMs?: number;
}) {
  const [holding, setHolding] = useState(false);
  const [tapped, setTapped] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const cancel = () => {
    clearTimeout(timer.current);
    timer.current = undefined;
    setHolding(false);
  };
  const start = () => {
    if (disabled || timer.current !== undefined) return;
    setTapped(false);
    setHolding(true);
    timer.current = setTimeout(() => {
      timer.current = undefined;
      setHolding(false);
      onConfirm();
    }, holdMs);
  };
  const release = () => {
    if (timer.current !== undefined) setTapped(true);
    cancel();
  };
  useEffect(() => cancel, []);

  return (
    <button
      type="button"
      class={`big-button hold${holding ? ' holding' : ''}`}
      style={{ '--hold-ms': `${holdMs}ms` }}
      disabled={disabled}
      data-testid={testid}
      aria-describedby={`${testid}-hint`}
      onPointerDown={(e) => {
        (e.currentTarget as HTMLElement).setPointerCapture?.(e.pointerId);
        start();
      }}
      onPointerUp={release}
      onPointerCancel={cancel}
      onPointerLeave={cancel}
      onContextMenu={(e) => e.preventDefault()}
      onKeyDown={(e) => {
        if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
          e.preventDefault();
          start();
        }
      }}
      onKeyUp={(e) => {
        if (e.key === ' ' || e.key === 'Enter') release();
      }}
      onBlur={cancel}
    >
      <span class="hold-fill" aria-hidden="true" />
      <span class="hold-label">{label}</span>
      <span class="hold-hint" id={`${testid}-hint`}>
        {tapped ? `Keep holding for ${Math.round(holdMs / 1000)} seconds` : hint}
      </span>
    </button>
  );
}
