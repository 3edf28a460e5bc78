// The language switch: one button per language, each named in its own language, the
// current one pressed. Shown in the shop's header (and on the receipt page).

import { LANGUAGES, type Lang, setLang, t } from '../i18n';

export function LanguageSwitch({ current }: { current: Lang }) {
  return (
    <div class="lang-switch" role="group" aria-label={t('common.language')} data-testid="language-switch">
      {LANGUAGES.map((l) => (
        <button type="button" key={l.code} lang={l.code} aria-pressed={current === l.code} data-testid={`lang-${l.code}`}
          onClick={() => setLang(l.code)}>
          {l.name}
        </button>
      ))}
    </div>
  );
}
