// Which receipt the page shows: the id in `/r/<receipt id>` (how the node serves it and
// the QR code names it), or `?id=` when the page is opened as `receipt.html`.

export function receiptIdFrom(location: Pick<Location, 'pathname' | 'search'>): string | null {
  const m = /^\/r\/([^/?#]+)\/?$/.exec(location.pathname);
  if (m) {
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return null;
    }
  }
  return new URLSearchParams(location.search).get('id') || null;
}
