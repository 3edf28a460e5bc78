// Entry point of the shop (`/shop/`): decides whether this device is a kiosk (and then
// starts its offline till), registers the shop's service worker where it may, and
// renders the shop.

import { render } from 'preact';
import { NodeClient } from '../api/node-client';
import { SellingApi } from '../api/selling-api';
import '../styles.css';
import '../selling.css';
import { adoptKioskKey, fullScreenOnFirstTap } from './kiosk';
import { OfflineTill, warmTill } from './offline/till';
import { registerShopWorker } from './service-worker';
import { Shop } from './shop';

/** A kiosk gives up on an answer after this long and sells by itself (a phone waits). */
const KIOSK_TIMEOUT_MS = 8_000;

const kioskKey = adoptKioskKey();
const api = new SellingApi(new NodeClient('', (): Record<string, string> => (kioskKey ? { 'x-boothcloud-kiosk': kioskKey } : {}),
  kioskKey ? KIOSK_TIMEOUT_MS : null));
if (kioskKey) fullScreenOnFirstTap();
const till = kioskKey ? new OfflineTill(api) : null;
void till?.start();
// The catalogue again (through the worker, which keeps it), the photos it names (its
// photo cache keeps 200) and, on a kiosk, the price engine.
registerShopWorker(async () => {
  if (till) void warmTill().catch(() => undefined);
  const photos = (await api.catalogue()).items.flatMap((i) => (i.image ? [api.photoUrl(i.image)] : []));
  await Promise.all(photos.slice(0, 200).map((url) => api.prefetch(url)));
});

render(<Shop api={api} kiosk={kioskKey !== null} till={till} />, document.getElementById('app')!);
