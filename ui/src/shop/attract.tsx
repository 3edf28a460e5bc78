// The kiosk's attract screen, after it stood untouched for the event's `attract_after`:
// the event's name, "Tap to order" and the products' photos in turn. Anything on the
// screen behind it is gone by then (the basket emptied); one tap anywhere starts.

import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';

const PHOTO_MS = 6_000;

export function Attract({ eventName, photos, onWake }: { eventName: string; photos: string[]; onWake: () => void }) {
  const [shown, setShown] = useState(0);
  useEffect(() => {
    if (photos.length < 2) return;
    const timer = setInterval(() => setShown((n) => (n + 1) % photos.length), PHOTO_MS);
    return () => clearInterval(timer);
  }, [photos.length]);
  return (
    <button type="button" class="attract" data-testid="attract" onClick={onWake} autoFocus>
      {photos.length > 0 && <img src={photos[shown % photos.length]} alt="" />}
      <span class="attract-text">
        <span class="attract-event">{eventName}</span>
        <span class="attract-tap">{t('attract.tap')}</span>
      </span>
    </button>
  );
}
