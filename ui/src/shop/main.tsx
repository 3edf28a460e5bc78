// Entry point of the shop (`/shop/`): decides whether this device is a kiosk, registers
// the shop's service worker where it may, and renders the shop.

import { render } from 'preact';
import { NodeClient } from '../api/node-client';
import { SellingApi } from '../api/selling-api';
import '../styles.css';
import '../selling.css';
import { adoptKioskKey, fullScreenOnFirstTap } from './kiosk';
import { registerShopWorker } from './service-worker';
import { Shop } from './shop';

const kioskKey = adoptKioskKey();
const api = new SellingApi(new NodeClient('', (): Record<string, string> => (kioskKey ? { 'x-boothcloud-kiosk': kioskKey } : {})));
if (kioskKey) fullScreenOnFirstTap();
// The catalogue again (through the worker, which keeps it) and the photos it names (its
// photo cache keeps 200).
registerShopWorker(async () => {
  const photos = (await api.catalogue()).items.flatMap((i) => (i.image ? [api.photoUrl(i.image)] : []));
  await Promise.all(photos.slice(0, 200).map((url) => api.prefetch(url)));
});

render(<Shop api={api} kiosk={kioskKey !== null} />, document.getElementById('app')!);
