// A quantity stepper: one fewer, the quantity, one more. Each button says what it does
// to which item ("One more Glow mug"); going below one removes the line.

import { t } from '../i18n';

export function Stepper({ name, qty, max, onSet, testid }: {
  name: string;
  qty: number;
  /** Most units allowed (stock left); null: no limit here. */
  max: number | null;
  onSet: (qty: number) => void;
  testid: string;
}) {
  return (
    <div class="stepper" role="group" aria-label={t('basket.qty', { name })} data-testid={testid}>
      <button type="button" class="step" aria-label={qty <= 1 ? t('basket.remove', { name }) : t('basket.fewer', { name })}
        data-testid={`${testid}-fewer`} onClick={() => onSet(qty - 1)}>
        <span aria-hidden="true">{qty <= 1 ? '×' : '−'}</span>
      </button>
      <output class="step-qty" data-testid={`${testid}-qty`}>{qty}</output>
      <button type="button" class="step" aria-label={t('basket.more', { name })} data-testid={`${testid}-more`}
        disabled={max !== null && qty >= max} onClick={() => onSet(qty + 1)}>
        <span aria-hidden="true">+</span>
      </button>
    </div>
  );
}
