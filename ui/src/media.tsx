// The Media screen: what the booth's cameras and phones uploaded, the clips made from
// it (with progress, cancel and a preview), the upload tokens devices use, and the
// reduced-quality switch. A full-screen view over the booth screen, refreshed every
// two seconds.

import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, type Connection } from './api';
import { ago, bytes, jobState, jobWhat, uploadState } from './format';
import { HoldButton } from './hold';
import { Sheet } from './neighbours';
import { useAction, usePolled } from './polled';
import type { IssuedToken, Job, MediaSummary, Upload, UploadToken } from './types';

const REFRESH_MS = 2_000;

type Everything = { summary: MediaSummary; uploads: Upload[]; jobs: Job[]; tokens: UploadToken[] };

function Meter({ share, label, tone = '' }: { share: number; label: string; tone?: string }) {
  const pct = Math.max(0, Math.min(100, Math.round(share * 100)));
  return (
    <div class="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <span class={tone} style={{ width: `${pct}%` }} />
    </div>
  );
}

export function Media({ conn, onClose }: { conn: Connection; onClose: () => void }) {
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
  const now = new Date();

  const issue = async () => {
    try {
      setIssued(await conn.issueUploadToken(label.trim() || 'Camera'));
      setLabel('');
      refresh();
    } catch (e) {
      setMessage({ tone: 'bad', text: e instanceof ApiError ? e.message : String(e) });
    }
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
      {data && data.jobs.length === 0 && <p class="empty">No clips yet. Pick an upload below and a size to make one.</p>}
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
                    <td class="num">{j.media_ms > 0 ? `${(j.media_ms / 1000).toFixed(1)} s` : '—'}</td>
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
              return (
                <tr key={u.id} data-testid="upload-row" data-state={u.state}>
                  <td>{u.filename ?? 'Unnamed'}<p class="sub">{ago(new Date(u.updated_at), now)}</p></td>
                  <td>{u.device}</td>
                  <td class="num">{bytes(u.length)}</td>
                  <td>
                    <span class={`state ${st.tone === 'good' ? 'ok' : st.tone === 'warn' ? 'warn' : ''}`}>{st.label}</span>
                    {u.state === 'receiving' && <Meter share={st.share} label="Arrived" />}
                  </td>
                  <td>
                    <div class="buttons">
                    {u.state === 'done' && s?.presets.map((p) => (
                      <button type="button" class="big-button" key={p.name} data-testid={`make-${p.name}`}
                        onClick={() => void act(() => conn.startTranscode(u.id, p.name), `Making ${p.name} of ${u.filename ?? 'the upload'}.`)}>
                        {p.format === 'jpeg' ? `Poster` : `Make ${p.name}`}
                      </button>
                    ))}
                    {(u.state === 'done' || u.state === 'receiving') && (
                      <HoldButton label="Delete" hint="Hold to delete this upload" testid="delete-upload"
                        onConfirm={() => void act(() => conn.deleteUpload(u.id), 'Upload deleted.')} />
                    )}
                    </div>
                  </td>
                </tr>
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
          <span>Enter this on {issued.label} (shown once; valid until {new Date(issued.expires_at).toLocaleString('en-GB')}):</span>
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
                <td>{new Date(k.expires_at).toLocaleString('en-GB', { weekday: 'short', hour: '2-digit', minute: '2-digit' })}</td>
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
