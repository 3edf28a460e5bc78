// What a page keeps in this browser (localStorage) as JSON: a basket, a pending order,
// a kiosk's key, a staff session. Private browsing or a full store must not break a
// sale, so every failure reads as "nothing kept" and every write may silently not keep.

/** The part of `Storage` used here (tests pass a Map-backed one). */
export type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** The browser's localStorage, or a store that keeps nothing when there is none. */
export function browserStore(): KeyValueStore {
  try {
    const s = globalThis.localStorage;
    if (s) return s;
  } catch {
    // Denied (a sandboxed frame, some private modes).
  }
  return { getItem: () => null, setItem: () => undefined, removeItem: () => undefined };
}

export function readJson<T>(store: KeyValueStore, key: string): T | null {
  try {
    const text = store.getItem(key);
    return text ? (JSON.parse(text) as T) : null;
  } catch {
    return null;
  }
}

/** Keeps `value`; answers whether it was kept (false: storage is full or denied). */
export function writeJson(store: KeyValueStore, key: string, value: unknown): boolean {
  try {
    store.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false;
  }
}

export function forget(store: KeyValueStore, key: string): void {
  try {
    store.removeItem(key);
  } catch {
    // Nothing kept.
  }
}
