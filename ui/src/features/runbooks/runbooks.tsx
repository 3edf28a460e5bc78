// The Runbooks screen: the manifest's runbooks — when each runs (its trigger in words,
// and whether its condition holds now), its steps, its last run — with a dry run that
// shows what each step would change and a hold-to-run button; and below, the audit log
// of every control action, by hand or by runbook.

import { useState } from 'preact/hooks';
import type { AuditEntry, Connection, ControlsView, RunReport } from '../../api';
import { HoldButton } from '../../components/hold-button';
import { Sheet } from '../../components/sheet';
import { ago, auditLine, runbookWhen } from '../../lib/format';
import { useAction, usePolled } from '../../lib/polled';

const REFRESH_MS = 2_000;

type Everything = { controls: ControlsView; audit: AuditEntry[] };

function Report({ report }: { report: RunReport }) {
  return (
    <ol class="steps" data-testid="run-report">
      {report.steps.map((s, i) => (
        <li key={i} data-testid="run-step">
          <strong>{s.step}</strong>
          {s.before && s.changes ? ` — ${s.before} → ${s.after}` : s.before ? ` — already ${s.after}` : ''}
          {' · '}
          {s.result === 'ok' ? 'done' : s.result}
        </li>
      ))}
    </ol>
  );
}

export function Runbooks({ conn, onClose }: { conn: Connection; onClose: () => void }) {
  const { data, problem, refresh } = usePolled<Everything>(
    async () => {
      const [controls, audit] = await Promise.all([conn.controls(), conn.audit(30)]);
      return { controls, audit };
    },
    REFRESH_MS,
  );
  const { message, act } = useAction(refresh);
  const [reports, setReports] = useState<Record<string, RunReport>>({});
  const now = new Date();
  const keep = (r: RunReport) => setReports((all) => ({ ...all, [r.runbook]: r }));
  return (
    <Sheet title="Runbooks" testid="runbooks" onClose={onClose}>
      {message && <p class={`notice ${message.tone}`} role="status" data-testid="runbooks-message">{message.text}</p>}
      {problem && <p class="notice bad" role="alert">{problem}</p>}
      {data && data.controls.runbooks.length === 0 && (
        <p class="empty">This manifest has no runbooks. Add them under [[runbooks]] in the manifest.</p>
      )}
      {data && (
        <div class="plain-list">
          {data.controls.runbooks.map((r) => (
            <section class="runbook" key={r.name} data-testid="runbook" aria-labelledby={`runbook-${r.name}`}>
              <h3 id={`runbook-${r.name}`}>{r.title}</h3>
              <p class="sub">{runbookWhen(r)}</p>
              <ol class="steps">
                {r.steps.map((s, i) => <li key={i}>{s}</li>)}
              </ol>
              {r.last_run && (
                <p class="sub" data-testid="last-run">
                  Last run {ago(new Date(r.last_run.at), now)} {r.last_run.by === 'trigger' ? 'by its trigger' : 'by staff'}
                  {r.last_run.result === 'ok' ? '.' : ` — ${r.last_run.result}.`}
                </p>
              )}
              {reports[r.name] && (
                <>
                  <p class="sub">{reports[r.name].dry_run ? 'It would:' : 'It did:'}</p>
                  <Report report={reports[r.name]} />
                </>
              )}
              <div class="buttons">
                <button type="button" class="big-button" data-testid="dry-run"
                  onClick={() => void act(async () => keep(await conn.dryRun(r.name)), `${r.title}: this is what it would do. Nothing was changed.`)}>
                  What would it do?
                </button>
                <HoldButton label="Run now" hint="Hold 2 s to run every step" testid="run-runbook"
                  onConfirm={() => void act(async () => keep(await conn.runRunbook(r.name)), `${r.title} ran.`)} />
              </div>
            </section>
          ))}
        </div>
      )}
      {data && (
        <>
          <h3>What was done</h3>
          {data.audit.length === 0 && <p class="empty">Nothing yet.</p>}
          <ul class="plain-list" data-testid="runbooks-audit">
            {data.audit.map((e) => {
              const line = auditLine(e);
              return (
                <li key={e.id} data-testid="audit-entry">
                  <span class={line.ok ? '' : 'state bad'}>{line.text}</span>
                  <span class="sub">{ago(new Date(e.at), now)}</span>
                </li>
              );
            })}
          </ul>
        </>
      )}
    </Sheet>
  );
}
