// Where an order is, as four steps — Received, Preparing, Ready, Collected — the
// current one marked (in words, not only colour); a voided order is its own notice.

import type { Fulfilment } from '../api/selling';
import { t } from '../i18n';
import { receiptStep } from '../i18n/words';

const STEPS: Fulfilment[] = ['new', 'preparing', 'ready', 'collected'];

export function Progress({ fulfilment }: { fulfilment: Fulfilment }) {
  if (fulfilment === 'voided') {
    return <p class="notice bad voided" data-testid="receipt-voided">{t('receipt.now.voided')}</p>;
  }
  const at = STEPS.indexOf(fulfilment);
  return (
    <ol class="progress" aria-label={t('receipt.progress')} data-testid="receipt-progress">
      {STEPS.map((step, i) => (
        <li key={step} class={i < at ? 'done' : i === at ? 'current' : 'todo'} aria-current={i === at ? 'step' : undefined}>
          <span class="dot" aria-hidden="true">{i < at ? '✓' : i + 1}</span>
          <span class="step-name">{receiptStep(step)}</span>
          {i < at && <span class="sr-only"> ({t('receipt.step_done')})</span>}
        </li>
      ))}
    </ol>
  );
}
