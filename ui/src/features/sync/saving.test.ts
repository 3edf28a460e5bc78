import { describe, expect, it } from 'vitest';
import { exportMessage } from './saving';

describe('exportMessage', () => {
  it('says saved, with the path, only when the app wrote the file', () => {
    expect(exportMessage('quarantined', { kind: 'saved', path: '/home/booth/quarantined-orders.json' }))
      .toEqual({ tone: 'good', text: 'Saved to /home/booth/quarantined-orders.json' });
  });
  it('says not saved when the save window was closed', () => {
    const m = exportMessage('unsynced', { kind: 'cancelled' });
    expect(m.tone).toBe('warn');
    expect(m.text).toBe('Not saved: no file was chosen. The waiting orders are still on this laptop.');
  });
  it('never calls a browser download saved', () => {
    const m = exportMessage('quarantined', { kind: 'downloading' });
    expect(m.text).toBe('Download started — check your downloads folder.');
    expect(m.text.toLowerCase()).not.toContain('saved');
  });
});
