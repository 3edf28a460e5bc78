import { describe, expect, it } from 'vitest';
import { printerLines } from './printer-lines';

describe('a printer found over mDNS, as price list lines', () => {
  it('names an IPP printer by its DNS-SD instance', () => {
    const got = printerLines({ kind: 'printer', name: 'Prep Table "2"', service_type: '_ipp._tcp.local.' });
    expect(got).toEqual({
      lines: '[[printers]]\nname = "prep-table-2"\ndns_sd = "Prep Table \\"2\\"._ipp._tcp"\nrole = "tickets"  # tickets, receipts or labels\npaper = "a6"  # 58mm, 80mm or a6',
    });
  });

  it('takes a raw ESC/POS printer as a receipt printer on 80 mm rolls', () => {
    const got = printerLines({ kind: 'printer', name: 'TM-T20', service_type: '_pdl-datastream._tcp' });
    expect(got && 'lines' in got && got.lines).toContain('dns_sd = "TM-T20._pdl-datastream._tcp"\nrole = "receipts"');
  });

  it('says in words why an IPPS-only printer cannot be used, and ignores what is not a printer', () => {
    const got = printerLines({ kind: 'printer', name: 'Office', service_type: '_ipps._tcp' });
    expect(got && 'why' in got && got.why).toMatch(/IPP over TLS/);
    expect(printerLines({ kind: 'booth', name: 'B', service_type: '_boothcloud._tcp' })).toBeNull();
  });
});
