// The Media screen: what the booth's cameras and phones uploaded, the clips made from
// it (a part of an upload, from a start to an end, in a preset; with progress, cancel
// and a preview), the upload tokens devices use, and the reduced-quality switch. A
// sheet over the booth screen, refreshed every two seconds.

import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { Connection, IssuedToken, Job, MediaSummary, PresetInfo, Upload, UploadToken } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { Meter } from '../../components/meter';
import { Sheet } from '../../components/sheet';
import { ago, bytes, dayAndTime, decimal, jobState, jobWhat, uploadState } from '../../lib/format';
import { useAction, usePolled } from '../../lib/polled';
import { ClipForm } from './clip-form';
import { type Trim, trimWords } from './trim';

const REFRESH_MS = 2_000;

type Everything = { summary: MediaSummary; uploads: Upload[]; jobs: Job[]; tokens: UploadToken[] };

export function Media({ conn, timeZone, onClose }: { conn: Connection; timeZone: string; onClose: () => void }) {
  const { data, problem, refresh } = usePolled<Everything>(
    async () => {
      const [summary, uploads, jobs, tokens] = await Promise.all([conn.media(), conn.uploads(), conn.transcodes(), conn.uploadTokens()]);
      return { summary, uploads, jobs, tokens };
    },
    REFRESH_MS,
  );
  const { message, setMessage, act } = useAction(refresh);
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const [label, setLabel] = useState('');
  const [preview, setPreview] = useState<string | null>(null);
  // The upload whose clip form is open (one at a time).
  const [clipOf, setClipOf] = useState<string | null>(null);
  const now = new Date();

  const issue = async () => {
    try {
      setIssued(await conn.issueUploadToken(label.trim() || 'Camera'));
      setLabel('');
      refresh();
    } catch (e) {
      setMessage({ tone: 'bad', text: e instanceof Error ? e.message : String(e) });
    }
  };

  // A refusal rejects, so the clip form shows it beside the fields.
  const makeClip = async (u: Upload, p: PresetInfo, trim: Trim) => {
    await conn.startTranscode(u.id, p.name, trim.startS, trim.endS);
    setClipOf(null);
    const what = p.format === 'jpeg' ? 'a poster' : p.name;
    setMessage({ tone: 'good', text: `Making ${what} of ${u.filename ?? 'the upload'}${trimWords(trim)}.` });
    refresh();
  };

  const s = data?.summary;
  const t = s?.transcodes;
  const degraded = t?.degraded ?? false;
  return (
    <Sheet
      title="Media"
      testid="media"
      onClose={onClose}
      actions={
        t && (
          <button type="button" class={`big-button ${degraded ? 'primary' : ''}`} data-testid="media-degrade"
            onClick={() => void act(() => conn.setMediaDegraded(!degraded), degraded ? 'Clips are made at full quality again.' : 'Clips are made at reduced quality, fewer at once.')}>
            {degraded ? 'Back to full quality' : 'Reduce quality'}
          </button>
        )
      }
    >
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="media-message">{message.text}</p>}
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {s && t && (
        <div class="media-summary" data-testid="media-summary">
          <div>
            <p class="sub">Space used: {bytes(s.used_bytes)} of {bytes(s.quota_bytes)}</p>
            <Meter share={s.used_bytes / s.quota_bytes} label="Media space used" tone={s.used_bytes > 0.9 * s.quota_bytes ? 'bad' : ''} />
          </div>
          <p class="sub">
            {t.ffmpeg_ok ? `${t.running} clip${t.running === 1 ? '' : 's'} being made, ${t.queued} waiting (at most ${t.concurrency} at once)` : `Clips cannot be made: ${t.ffmpeg}`}
            {t.budget_held && ' · the transcode budget is spent: only essential presets run'}
          </p>
          <p class="sub" data-testid="media-forwarding">
            {s.forwarding.enabled
              ? `Sending to the hub: ${s.forwarding.pending} waiting (${bytes(s.forwarding.pending_bytes)}), ${s.forwarding.sent} sent${s.forwarding.quarantined ? `, ${s.forwarding.quarantined} refused` : ''}`
              : 'Uploads and clips stay on this booth (sending to the hub is off).'}
          </p>
        </div>
      )}

      <h3>Clips</h3>
      {data && data.jobs.length === 0 && <p class="empty">No clips yet. Tap “Make a clip” on an upload below.</p>}
      {data && data.jobs.length > 0 && (
        <table class="order-table" data-testid="job-table">
          <thead>
            <tr><th>From</th><th>Makes</th><th>State</th><th class="num">Video</th><th /></tr>
          </thead>
          <tbody>
            {data.jobs.map((j) => {
              const st = jobState(j);
              return (
                <Fragment key={j.id}>
                  <tr data-testid="job-row" data-state={j.state}>
                    <td>{j.filename ?? 'Unnamed upload'}</td>
                    <td>{jobWhat(j)}</td>
                    <td>
                      <span class={`state ${st.tone === 'good' ? 'ok' : st.tone === 'bad' ? 'over' : st.tone === 'warn' ? 'warn' : ''}`}>{st.label}</span>
                      {j.state === 'running' && <Meter share={j.progress} label="Progress" />}
                      {j.reason && j.state !== 'cancelled' && <p class="sub">{j.reason}</p>}
                    </td>
                    <td class="num">{j.media_ms > 0 ? `${decimal(j.media_ms / 1000)} s` : '—'}</td>
                    <td>
                      <div class="buttons">
                        {(j.state === 'queued' || j.state === 'running') && (
                          <HoldButton label="Cancel" hint="Hold to stop making this clip" testid="cancel-job"
                            onConfirm={() => void act(() => conn.cancelTranscode(j.id), 'Cancelled.')} />
                        )}
                        {j.output_url && (
                          <button type="button" class="big-button" data-testid="preview" onClick={() => setPreview(preview === j.id ? null : j.id)}>
                            {preview === j.id ? 'Hide' : 'Preview'}
                          </button>
                        )}
                        {j.output_url && (
                          <HoldButton label="Delete clip" hint="Hold to delete this clip's file" testid="delete-clip"
                            onConfirm={() => void act(() => conn.removeClip(j.id), 'Clip deleted.')} />
                        )}
                      </div>
                    </td>
                  </tr>
                  {preview === j.id && j.output_url && (
                    <tr class="preview-row">
                      <td colSpan={5}>
                        <div class="preview" data-testid="clip-preview" data-for={j.preset}>
                          {j.output_url.endsWith('.jpg')
                            ? <img src={conn.url(j.output_url)} alt={`Poster of ${j.filename ?? 'the upload'}`} />
                            : <video src={conn.url(j.output_url)} controls playsInline preload="metadata" />}
                        </div>
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}

      <h3>Uploads</h3>
      {data && data.uploads.length === 0 && <p class="empty">Nothing uploaded yet. Give a camera or phone an upload token (below) to send its videos here.</p>}
      {data && data.uploads.length > 0 && (
        <table class="order-table" data-testid="upload-table">
          <thead>
            <tr><th>File</th><th>From</th><th class="num">Size</th><th>State</th><th /></tr>
          </thead>
          <tbody>
            {data.uploads.filter((u) => u.state !== 'deleted').map((u) => {
              const st = uploadState(u);
              const making = clipOf === u.id && u.state === 'done';
              return (
                <Fragment key={u.id}>
                  <tr data-testid="upload-row" data-state={u.state}>
                    <td>{u.filename ?? 'Unnamed'}<p class="sub">{ago(new Date(u.updated_at), now)}</p></td>
                    <td>{u.device}</td>
                    <td class="num">{bytes(u.length)}</td>
                    <td>
                      <span class={`state ${st.tone === 'good' ? 'ok' : st.tone === 'warn' ? 'warn' : ''}`}>{st.label}</span>
                      {u.state === 'receiving' && <Meter share={st.share} label="Arrived" />}
                    </td>
                    <td>
                      <div class="buttons">
                        {u.state === 'done' && s && s.presets.length > 0 && (
                          <button type="button" class="big-button" aria-expanded={making} aria-controls={making ? `clip-${u.id}-row` : undefined}
                            data-testid="make-clip" onClick={() => setClipOf(making ? null : u.id)}>
                            Make a clip
                          </button>
                        )}
                        {(u.state === 'done' || u.state === 'receiving') && (
                          <HoldButton label="Delete" hint="Hold to delete this upload" testid="delete-upload"
                            onConfirm={() => void act(() => conn.deleteUpload(u.id), 'Upload deleted.')} />
                        )}
                      </div>
                    </td>
                  </tr>
                  {making && s && (
                    <tr class="clip-row" id={`clip-${u.id}-row`}>
                      <td colSpan={5}>
                        <ClipForm upload={u} presets={s.presets} onMake={(p, trim) => makeClip(u, p, trim)} onCancel={() => setClipOf(null)} />
                      </td>
                    </tr>
                  )}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}

      <h3>Upload tokens</h3>
      <form class="code-form" onSubmit={(e) => { e.preventDefault(); void issue(); }}>
        <input class="code-input" aria-label="Which device is the token for" placeholder="Camera 1" value={label}
          onInput={(e) => setLabel((e.target as HTMLInputElement).value)} maxLength={64} data-testid="token-label" />
        <button type="submit" class="big-button primary" data-testid="issue-token">New upload token</button>
      </form>
      {issued && (
        <div class="notice good pairing-code" role="status" data-testid="issued-token">
          <span>Enter this on {issued.label} (shown once; valid until {dayAndTime(issued.expires_at, timeZone)}):</span>
          <strong class="token-text">{issued.token}</strong>
          <button type="button" class="big-button" onClick={() => setIssued(null)}>Hide</button>
        </div>
      )}
      {data && data.tokens.filter((k) => k.state === 'active').length > 0 && (
        <table class="order-table" data-testid="token-table">
          <thead>
            <tr><th>Device</th><th class="num">Uploads</th><th class="num">Used</th><th>Valid until</th><th /></tr>
          </thead>
          <tbody>
            {data.tokens.filter((k) => k.state === 'active').map((k) => (
              <tr key={k.id} data-testid="token-row">
                <td>{k.label}</td>
                <td class="num">{k.uploads}</td>
                <td class="num">{bytes(k.used_bytes)}</td>
                <td>{dayAndTime(k.expires_at, timeZone)}</td>
                <td>
                  <HoldButton label="Revoke" hint="Hold to stop this device uploading" testid="revoke-token"
                    onConfirm={() => void act(() => conn.revokeUploadToken(k.id), `${k.label} can no longer upload.`)} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Sheet>
  );
}
