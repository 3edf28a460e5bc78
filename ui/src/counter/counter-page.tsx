// The counter's own page (`/counter/`, a staff tablet): sign in with name and PIN, then
// the counter as that person. A session kept from before is checked first; one that
// the node ended (after a while unused, a new PIN) brings the sign-in back with the
// ticket kept. Signing out ends the session on the node too.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../api/errors';
import { t, useLang } from '../i18n';
import { Counter } from './counter';
import { SignIn } from './sign-in';
import { anonymous, forgetSession, keepSession, keptSession, type StaffSession, staffApi } from './staff-session';

/** How often a signed-in page asks whether its session still holds. */
const CHECK_MS = 60_000;

export function CounterPage() {
  const lang = useLang();
  const [session, setSession] = useState<StaffSession | null>(keptSession);
  const [notice, setNotice] = useState<string | null>(null);
  const api = useMemo(() => (session ? staffApi(session) : null), [session?.token]);

  const ended = () => {
    forgetSession();
    setSession(null);
    setNotice(t('error.staff_session_needed'));
  };

  useEffect(() => {
    document.title = t('counter.title');
    if (!api) return;
    let live = true;
    const check = async () => {
      try {
        await api.me();
      } catch (e) {
        if (live && e instanceof ApiError && e.status === 401) ended();
      }
    };
    void check();
    const timer = setInterval(check, CHECK_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [api, lang]);

  if (!session || !api) {
    return (
      <SignIn api={anonymous} lang={lang} notice={notice} onSignedIn={(s) => {
        keepSession(s);
        setNotice(null);
        setSession(s);
      }} />
    );
  }
  return (
    <main class="counter-page" id="main">
      <Counter auth={{
        api,
        who: session.name,
        scope: 'counter',
        onSessionEnded: ended,
        onSignOut: () => {
          void api.signOut().catch(() => undefined);
          forgetSession();
          setNotice(null);
          setSession(null);
        },
      }} />
    </main>
  );
}
