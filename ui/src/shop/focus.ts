// Focus for views that replace one another (basket → checkout → the order on its way →
// its pickup number): the new view's heading takes focus when it appears, so a screen
// reader reads where the person is and a keyboard starts from there.

import { type RefObject } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

export function useFocusOnMount<T extends HTMLElement>(): RefObject<T> {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return ref;
}
