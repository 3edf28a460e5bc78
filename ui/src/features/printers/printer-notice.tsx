// The notice under the header (and at the top of every sheet) while a printer needs a
// person: which printers, why in the node's words, and the way to the Printers screen.

import type { PrinterView } from '../../api';
import { t } from '../../i18n';
import { attentionWhy, needingAttention, roleWords } from './printer-words';

export function PrinterNotice({ printers, onOpen }: {
  printers: PrinterView[] | null;
  /** Opens the Printers screen; null when it is the one shown. */
  onOpen: (() => void) | null;
}) {
  const troubled = needingAttention(printers);
  if (troubled.length === 0) return null;
  return (
    <section class="alert-panel bad printer-notice" aria-labelledby="printer-notice-title" data-testid="printer-notice">
      <div class="printer-notice-text">
        <h2 class="alert-title" id="printer-notice-title">{t('printers.notice.title')}</h2>
        <ul class="printer-notice-lines" role="alert">
          {troubled.map((p) => (
            <li key={p.name} data-testid="printer-notice-line">
              {t('printers.notice.line', { name: p.name, role: roleWords(p.role), why: attentionWhy(p) })}
            </li>
          ))}
        </ul>
      </div>
      {onOpen && (
        <button type="button" class="big-button" data-testid="open-printers" onClick={onOpen}>
          {t('printers.notice.open')}
        </button>
      )}
    </section>
  );
}
