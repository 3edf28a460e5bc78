// Enrolling a kiosk or staff tablet, on the Devices screen: the QR code it scans to open
// the booth's enrollment page, the fingerprint it must show when it installs the booth's
// certificate authority, and the addresses, for a device that cannot scan. Opened on
// demand: the QR code is of a public page, but nobody needs it on screen all day.

import { useState } from 'preact/hooks';
import type { Connection, Enrollment } from '../../api';

export function EnrollKiosk({ conn }: { conn: Connection }) {
  const [shown, setShown] = useState<Enrollment | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const show = async () => {
    try {
      setShown(await conn.enrollment());
      setProblem(null);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
  };

  return (
    <section class="enroll" data-testid="enroll">
      <h3>Add a kiosk or staff tablet</h3>
      {!shown && (
        <>
          <p class="hint">A kiosk or tablet trusts this booth once, then talks to it over an encrypted connection. Customers' phones do not need this.</p>
          <button type="button" class="big-button" onClick={show} data-testid="show-enroll">Show the enrollment code</button>
        </>
      )}
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {shown && (
        <div class="enroll-card">
          <img
            class="enroll-qr"
            alt={`QR code: open ${shown.urls[0]} on the kiosk`}
            src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(shown.qr_svg)}`}
            width={240}
            height={240}
            data-testid="enroll-qr"
          />
          <div>
            <p>Scan this with the kiosk's camera, or type on the kiosk:</p>
            <ul class="enroll-urls">
              {shown.urls.slice(0, 3).map((u) => <li key={u}><code>{u.split('?')[0]}</code></li>)}
            </ul>
            <p>When the kiosk installs the certificate it shows a fingerprint (SHA-256). It must be exactly:</p>
            <p class="fingerprint" data-testid="ca-fingerprint">{shown.ca_fingerprint}</p>
            {shown.source === 'manifest' && <p class="notice good">This booth uses your organisation's certificate: devices that trust it need no enrollment.</p>}
            <button type="button" class="big-button" onClick={() => setShown(null)}>Hide</button>
          </div>
        </div>
      )}
    </section>
  );
}
