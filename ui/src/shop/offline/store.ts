// Where an enrolled kiosk keeps what it needs to sell without the booth: one IndexedDB
// database (`boothcloud-kiosk`) with the last offline kit (`kit`) and the orders taken
// offline and not delivered yet (`queue`, in the order they were taken: `seq` grows and
// is never given twice). Only a kiosk opens it; a phone never does.
//
// Owns: the database's name, its stores and their shapes. Never: decides what goes in
// (kit.ts and queue.ts do), or drops an order but after the node took it.

import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { OfflineKit, OfflineOrder } from '../../api/selling';

export const DB_NAME = 'boothcloud-kiosk';
const VERSION = 1;

/** The last kit from the node, when this device received it, and the next pickup number. */
export interface KeptKit {
  kit: OfflineKit;
  /** `Date.now()` when it arrived (the limit on selling offline is measured from it). */
  receivedAt: number;
  /** The next pickup number this kiosk hands out (without its prefix). */
  next: number;
}

/** An order taken offline and not delivered yet. */
export interface QueuedOrder {
  /** Its place in the queue (given by the store on the way in). */
  seq: number;
  /** Exactly what is sent, every time (the same key, the same body). */
  body: OfflineOrder;
  /** The number the customer was given (`A-007`). */
  pickupNumber: string;
  currency: string;
  /** `waiting`: to deliver; `needs_staff`: the node will never take it as it is. */
  state: 'waiting' | 'needs_staff';
  /** Why the last try failed (the node's code and words), or null. */
  error: { code: string; message: string } | null;
  attempts: number;
}

export interface KioskDb extends DBSchema {
  kit: { key: 'current'; value: KeptKit };
  queue: { key: number; value: QueuedOrder };
}

export type KioskStore = IDBPDatabase<KioskDb>;

export function openKioskStore(): Promise<KioskStore> {
  return openDB<KioskDb>(DB_NAME, VERSION, {
    upgrade(db) {
      db.createObjectStore('kit');
      db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
    },
  });
}
