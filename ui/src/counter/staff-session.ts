// A staff member's session on this device: the token `POST /api/v1/staff/session` gave
// (kept in this browser, so a reload keeps the person signed in until the node ends the
// session after a while unused), and the calls made with it.

import { NodeClient } from '../api/node-client';
import { SellingApi } from '../api/selling-api';
import { browserStore, forget, readJson, writeJson } from '../lib/stored';

const KEY = 'boothcloud.staff';

export interface StaffSession {
  token: string;
  name: string;
}

export function keptSession(): StaffSession | null {
  const s = readJson<StaffSession>(browserStore(), KEY);
  return s && typeof s.token === 'string' && typeof s.name === 'string' ? s : null;
}

export function keepSession(s: StaffSession): void {
  writeJson(browserStore(), KEY, s);
}

export function forgetSession(): void {
  forget(browserStore(), KEY);
}

/** Calls without a session: the catalogue, signing in. */
export const anonymous = new SellingApi(new NodeClient(''));

/** Calls as the signed-in person. */
export function staffApi(session: StaffSession): SellingApi {
  return new SellingApi(new NodeClient('', () => ({ authorization: `Bearer ${session.token}` })));
}
