// An order on its way: what was confirmed, whether the booth answered yet, and when it
// tries again. While the booth cannot be reached the order is "not confirmed yet" (it
// may or may not have arrived; the retry with the same key will say); it is never
// called placed until the booth says so.

import type { ApiError } from '../api/errors';
import { t } from '../i18n';
import { errorText } from '../i18n/words';
import { money } from '../lib/format';
import { useTicking } from '../lib/polled';
import type { PendingOrder } from './checkout';
import { useFocusOnMount } from './focus';

export function SendingPanel({ pending, waiting, onRetry, onAbandon, abandonHint, staff = null }: {
  pending: PendingOrder;
  /** Set while waiting to try again: why, and when (`Date.now()`). */
  waiting: { error: ApiError; retryAt: number } | null;
  onRetry: () => void;
  /** Null where a person may not stop it (a kiosk: a card may already be paid). */
  onAbandon: (() => void) | null;
  abandonHint: string;
  /** A kiosk's till could not take the order over either: why, for staff. */
  staff?: string | null;
}) {
  useTicking(1000);
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const seconds = waiting ? Math.max(0, Math.ceil((waiting.retryAt - Date.now()) / 1000)) : 0;
  return (
    <section class="sending panel" aria-labelledby="sending-title" data-testid="sending">
      <h2 id="sending-title" tabIndex={-1} ref={heading}>{t('sending.title')}</h2>
      <p class="big-total">{money(pending.total, pending.currency)}</p>
      <div role="status" aria-live="polite" data-testid="sending-status">
        {!waiting && <p class="notice">{t('sending.checking')}</p>}
        {waiting && (
          <p class="notice warn">
            {waiting.error.unreachable ? t('sending.unreachable') : errorText(waiting.error)}
          </p>
        )}
      </div>
      {staff && <p class="notice bad" role="alert" data-testid="offline-staff-needed">{staff}</p>}
      {waiting && <p class="muted" data-testid="retry-in">{t('sending.retry_in', { seconds })}</p>}
      <div class="buttons">
        <button type="button" class="big-button primary" data-testid="retry-now" disabled={!waiting} onClick={onRetry}>
          {t('sending.retry_now')}
        </button>
        {onAbandon && waiting && (
          <button type="button" class="big-button" data-testid="abandon" aria-describedby="abandon-hint" onClick={onAbandon}>
            {t('sending.abandon')}
          </button>
        )}
      </div>
      {onAbandon && waiting && <p class="muted" id="abandon-hint">{abandonHint}</p>}
    </section>
  );
}
