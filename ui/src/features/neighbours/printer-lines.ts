// What to write in the price list file to print on a printer found over mDNS: a
// `[[printers]]` entry naming it by its DNS-SD instance (looked up again at every job,
// so a new address from the venue's DHCP does not matter), with a role to choose. The
// booth prints over IPP and raw ESC/POS (`_pdl-datastream`); a printer that only
// announces IPPS is said so in words.

export interface FoundPrinter {
  kind: string;
  name: string;
  service_type: string;
}

/** The manifest lines for a found printer, or why it cannot be used; null: not a printer. */
export function printerLines(dev: FoundPrinter): { lines: string } | { why: string } | null {
  if (dev.kind !== 'printer') return null;
  const type = dev.service_type.replace(/\.local\.?$/, '').replace(/\.$/, '');
  if (type === '_ipps._tcp') return { why: `${dev.name} only offers IPP over TLS, which this booth does not print to yet. Turn on plain IPP on the printer.` };
  if (type !== '_ipp._tcp' && type !== '_pdl-datastream._tcp') return { why: `${dev.name} announces ${type}, which this booth does not print to.` };
  const escpos = type === '_pdl-datastream._tcp';
  const slug = dev.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 32) || 'printer';
  const quoted = (s: string) => JSON.stringify(s);
  return {
    lines: [
      '[[printers]]',
      `name = ${quoted(slug)}`,
      `dns_sd = ${quoted(`${dev.name}.${type}`)}`,
      `role = "${escpos ? 'receipts' : 'tickets'}"  # tickets, receipts or labels`,
      `paper = "${escpos ? '80mm' : 'a6'}"  # 58mm, 80mm or a6`,
    ].join('\n'),
  };
}
