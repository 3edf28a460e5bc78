// Kiosk mode. A device is the booth's kiosk when this browser keeps a kiosk key
// (`boothcloud.kiosk`), given once by opening `/shop/?kiosk=<key>` (the key is then taken
// out of the address, so it is neither bookmarked nor shown). A kiosk sends its key on
// every call (`X-Boothcloud-Kiosk`), may take the booth's payment methods, goes full
// screen at the first tap, and shows its attract screen after a while untouched.
// Anything else is a customer's phone.

import { useEffect, useRef, useState } from 'preact/hooks';
import { browserStore } from '../lib/stored';

const KEY = 'boothcloud.kiosk';

/** Takes a `?kiosk=` key from the address (keeping it) and answers the kiosk key, if any. */
export function adoptKioskKey(): string | null {
  const store = browserStore();
  const url = new URL(window.location.href);
  const given = url.searchParams.get('kiosk');
  if (given !== null) {
    const key = given.trim();
    try {
      if (key) store.setItem(KEY, key);
      else store.removeItem(KEY); // `?kiosk=` with nothing: this is no longer a kiosk.
    } catch {
      // Not kept: a kiosk for this page only.
    }
    url.searchParams.delete('kiosk');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    if (key) return key;
  }
  try {
    return store.getItem(KEY) || null;
  } catch {
    return null;
  }
}

/** Full screen at the first tap (browsers allow it only then); a refusal changes nothing. */
export function fullScreenOnFirstTap(): void {
  const go = () => {
    window.removeEventListener('pointerdown', go, true);
    if (!document.fullscreenElement) void document.documentElement.requestFullscreen?.().catch(() => undefined);
  };
  window.addEventListener('pointerdown', go, true);
}

const ACTIVITY = ['pointerdown', 'keydown', 'input', 'wheel', 'touchstart'] as const;

/**
 * Whether nobody has touched the page for `ms` (`active` false: never idle). `wake()`
 * ends it (the attract screen's tap).
 */
export function useIdle(ms: number, active: boolean): { idle: boolean; wake: () => void } {
  const [idle, setIdle] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const idleRef = useRef(idle);
  idleRef.current = idle;
  const arm = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => setIdle(true), ms);
  };
  useEffect(() => {
    if (!active || ms <= 0) {
      setIdle(false);
      return;
    }
    arm();
    const onActivity = () => {
      if (!idleRef.current) arm();
    };
    for (const e of ACTIVITY) window.addEventListener(e, onActivity, { capture: true, passive: true });
    return () => {
      clearTimeout(timer.current);
      for (const e of ACTIVITY) window.removeEventListener(e, onActivity, { capture: true });
    };
  }, [ms, active]);
  return {
    idle,
    wake: () => {
      setIdle(false);
      arm();
    },
  };
}
