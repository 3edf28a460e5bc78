// The kiosk's offline kit as it keeps it: the last kit the node gave (price book, the
// pickup numbers reserved for this kiosk, the limits), when it arrived, and the next
// number to hand out. A kiosk asks for a kit at start, every minute while it reaches
// the node and after each delivery (till.ts); this keeps the newest.
//
// Owns: the `kit` store. Never: hands out a number (queue.ts does, in the same
// transaction that keeps the order), or keeps a kit for a phone.

import type { OfflineKit } from '../../api/selling';
import { nextAfterKit } from './rules';
import type { KeptKit, KioskStore } from './store';

export async function readKit(db: KioskStore): Promise<KeptKit | null> {
  return (await db.get('kit', 'current')) ?? null;
}

/** Keeps a kit the node just gave; the next number follows `nextAfterKit`. */
export async function keepKit(db: KioskStore, kit: OfflineKit, receivedAt: number): Promise<KeptKit> {
  const tx = db.transaction('kit', 'readwrite');
  const kept = await tx.store.get('current');
  const next = nextAfterKit(kept ? { first: kept.kit.pickup.first, next: kept.next } : null, kit.pickup);
  const fresh: KeptKit = { kit, receivedAt, next };
  await tx.store.put(fresh, 'current');
  await tx.done;
  return fresh;
}
