// Signing in at the counter: a name, and a PIN on a numeric keypad of large keys (a
// keyboard works too). A wrong PIN says so; too many lock the person out for a while,
// and the screen says how long.

import { useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import type { SellingApi } from '../api/selling-api';
import { t, tn } from '../i18n';
import { errorText } from '../i18n/words';
import { LanguageSwitch } from '../shop/language-switch';
import { useFocusOnMount } from '../shop/focus';
import type { Lang } from '../i18n';
import type { StaffSession } from './staff-session';

const PIN = /^\d{4,12}$/;
const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];

export function SignIn({ api, lang, notice, onSignedIn }: {
  api: SellingApi;
  lang: Lang;
  /** Why the person is here again (their session ended), if so. */
  notice: string | null;
  onSignedIn: (s: StaffSession) => void;
}) {
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useFocusOnMount<HTMLHeadingElement>();

  const type = (digit: string) => setPin((p) => (p.length < 12 ? p + digit : p));
  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (!name.trim() || !PIN.test(pin)) {
      setProblem(t('signin.needs'));
      return;
    }
    setBusy(true);
    try {
      const signed = await api.signIn({ name: name.trim(), pin });
      onSignedIn({ token: signed.token, name: signed.name });
    } catch (err) {
      setProblem(err instanceof ApiError ? errorText(err) : String(err));
      setPin('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in centre-column" id="main">
      <div class="sign-in-head">
        <h1 tabIndex={-1} ref={heading}>{t('signin.title')}</h1>
        <LanguageSwitch current={lang} />
      </div>
      {notice && <p class="notice warn" role="status" data-testid="session-ended">{notice}</p>}
      <form class="sign-in-form" onSubmit={(e) => void submit(e)} data-testid="sign-in">
        <label class="field">
          <span>{t('signin.name')}</span>
          <input type="text" value={name} autoComplete="username" autoCapitalize="words" data-testid="signin-name"
            onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          <span>{t('signin.pin')}</span>
          <input type="password" value={pin} inputMode="numeric" autoComplete="current-password" maxLength={12} pattern="[0-9]*"
            data-testid="signin-pin" aria-describedby="pin-count"
            onInput={(e) => setPin((e.target as HTMLInputElement).value.replace(/\D/g, '').slice(0, 12))} />
        </label>
        <p class="muted" id="pin-count" aria-live="polite">{tn('signin.digits', pin.length)}</p>
        <div class="keypad" role="group" aria-label={t('signin.keypad')}>
          {KEYS.map((k) => (
            <button type="button" key={k} class="key" data-testid={`key-${k}`} onClick={() => type(k)}>{k}</button>
          ))}
          <button type="button" class="key" data-testid="key-clear" aria-label={t('signin.clear')} onClick={() => setPin('')}>
            {t('signin.clear_short')}
          </button>
          <button type="button" class="key" data-testid="key-0" onClick={() => type('0')}>0</button>
          <button type="button" class="key" data-testid="key-back" aria-label={t('signin.delete')} onClick={() => setPin((p) => p.slice(0, -1))}>
            <span aria-hidden="true">⌫</span>
          </button>
        </div>
        {problem && <p class="notice bad" role="alert" data-testid="sign-in-problem">{problem}</p>}
        <button type="submit" class="big-button primary wide" disabled={busy} data-testid="sign-in-submit">{t('signin.submit')}</button>
      </form>
    </main>
  );
}
