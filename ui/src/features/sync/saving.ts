// What the Sync screen says after "Save … to a file": "saved" only when the app wrote
// the file and answered where; a cancelled dialog is "not saved"; a browser download is
// only "started", because the browser may still ask, block or drop it.

import type { SaveOutcome } from '../../api';
import type { Message } from '../../lib/polled';

/** The orders an export holds: those the hub refused, or every one not yet delivered. */
export type Export = 'quarantined' | 'unsynced';

const WHAT: Record<Export, string> = { quarantined: 'The refused orders', unsynced: 'The waiting orders' };

export function exportMessage(what: Export, outcome: SaveOutcome): Message {
  switch (outcome.kind) {
    case 'saved':
      return { tone: 'good', text: `Saved to ${outcome.path}` };
    case 'cancelled':
      return { tone: 'warn', text: `Not saved: no file was chosen. ${WHAT[what]} are still on this laptop.` };
    case 'downloading':
      return { tone: 'good', text: 'Download started — check your downloads folder.' };
  }
}
