// A tile's detail view: its chart over the last hour or the whole event (drawn by the
// node, in this screen's theme), the figures behind it in a table, and the chart as a
// picture for the post-event report. Opened from a tile, as a sheet.

import { useRef, useState } from 'preact/hooks';
import type { ChartName, ChartSpan, Connection, Snapshot } from '../../api';
import { Sheet } from '../../components/sheet';
import { budgetState, bytes, micros, moneyOrDash, overTarget, percent, routeName, usage } from '../../lib/format';
import { usePolled } from '../../lib/polled';

const TITLES: Record<ChartName, string> = {
  latency: 'Speed of the booth',
  'hit-ratio': 'Cache',
  spend: 'Spend against budget',
  transcodes: 'Transcodes',
};

/** The chart refreshes as often as the node records a point. */
const REFRESH_MS = 10_000;

export function Detail({ conn, snapshot, theme, name, onClose }: {
  conn: Connection;
  snapshot: Snapshot;
  theme: 'light' | 'dark';
  name: ChartName;
  onClose: () => void;
}) {
  const [span, setSpan] = useState<ChartSpan>('hour');
  const [picture, setPicture] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const frame = useRef<HTMLDivElement>(null);

  const { data: svg, problem: chartProblem } = usePolled(() => {
    const width = Math.min(2400, Math.max(320, frame.current?.clientWidth ?? 960));
    const height = Math.min(1600, Math.max(200, Math.round(width * 0.42)));
    return conn.chart(name, span, theme, width, height);
  }, REFRESH_MS, [conn, name, span, theme]);

  // A picture is handed to the downloads, which may still ask, block or drop it: the
  // message says it started, never that it is saved.
  const savePicture = async () => {
    try {
      conn.downloadPicture(await conn.chartPng(name, span), `boothcloud-${snapshot.event.id}-${name}-${span}.png`);
      setPicture({ tone: 'good', text: 'Download started — check your downloads folder.' });
    } catch (e) {
      setPicture({ tone: 'bad', text: `The picture could not be made: ${e instanceof Error ? e.message : String(e)}` });
    }
  };

  return (
    <Sheet
      title={TITLES[name]}
      testid={`detail-${name}`}
      onClose={onClose}
      actions={
        <>
          <button type="button" class="filter" aria-pressed={span === 'hour'} onClick={() => setSpan('hour')}>Last hour</button>
          <button type="button" class="filter" aria-pressed={span === 'event'} onClick={() => setSpan('event')}>Whole event</button>
          <button type="button" class="big-button" onClick={() => void savePicture()} data-testid="save-picture">Save picture</button>
        </>
      }
    >
      {picture && <p class={`notice ${picture.tone}`} role="status" data-testid="picture-message">{picture.text}</p>}
      <div class="chart" ref={frame}>
        {svg ? (
          <img data-testid="detail-chart" alt={`${TITLES[name]} chart`} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} />
        ) : (
          <p class="loading" aria-busy="true">Drawing the chart…</p>
        )}
      </div>
      {chartProblem && <p class="notice bad" role="alert">{chartProblem}</p>}
      <Figures name={name} snapshot={snapshot} />
    </Sheet>
  );
}

function Figures({ name, snapshot }: { name: ChartName; snapshot: Snapshot }) {
  const { spend, latency, cache } = snapshot;
  if (name === 'latency') {
    if (latency.routes.length === 0) return <p class="empty">No kiosk or phone has asked anything yet.</p>;
    return (
      <table class="order-table" data-testid="detail-table">
        <thead>
          <tr><th>What</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">Requests (min)</th><th class="num">Failed (min)</th><th class="num">p99 this event</th></tr>
        </thead>
        <tbody>
          {latency.routes.map((r) => (
            <tr key={`${r.method} ${r.route}`} class={overTarget(r, latency) ? 'slow' : ''}>
              <td>{routeName(r.method, r.route)}</td>
              <td class="num">{micros(r.last_minute.p50_us)}</td>
              <td class="num">{micros(r.last_minute.p95_us)}</td>
              <td class="num">{micros(r.last_minute.p99_us)}</td>
              <td class="num">{r.last_minute.requests}</td>
              <td class="num">{r.last_minute.errors}</td>
              <td class="num">{micros(r.event.p99_us)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  }
  if (name === 'spend' || name === 'transcodes') {
    const rows = name === 'spend' ? spend.components : spend.components.filter((c) => c.component === 'transcode');
    const table = (
      <table class="order-table" data-testid="detail-table">
        <thead>
          <tr><th>What</th><th class="num">Used</th><th class="num">Price</th><th class="num">Spent</th><th class="num">Budget</th><th class="num">At this rate</th><th>State</th></tr>
        </thead>
        <tbody>
          {rows.map((c) => (
            <tr key={c.component}>
              <td>{c.label}</td>
              <td class="num">{usage(c)}</td>
              <td class="num">{c.rate == null ? 'Free' : `${moneyOrDash(c.rate, spend.currency)} ${c.rate_unit}`}</td>
              <td class="num">{moneyOrDash(c.spent, spend.currency)}</td>
              <td class="num">{moneyOrDash(c.budget, spend.currency)}</td>
              <td class="num">{moneyOrDash(c.projected, spend.currency)}</td>
              <td class={`state ${c.state}`}>{budgetState(c.state)}</td>
            </tr>
          ))}
          {name === 'spend' && (
            <tr class="total">
              <td>Total</td><td /><td />
              <td class="num">{moneyOrDash(spend.total.spent, spend.currency)}</td>
              <td class="num">{moneyOrDash(spend.total.budget, spend.currency)}</td>
              <td class="num">{moneyOrDash(spend.total.projected, spend.currency)}</td>
              <td class={`state ${spend.total.state}`}>{budgetState(spend.total.state)}</td>
            </tr>
          )}
        </tbody>
      </table>
    );
    if (name !== 'spend') return table;
    return (
      <>
        {table}
        <table class="order-table" data-testid="traffic-table">
          <caption>What this booth sent and received beyond itself</caption>
          <thead>
            <tr><th>What</th><th class="num">Last minute</th><th class="num">Since the booth started</th><th class="num">Calls</th></tr>
          </thead>
          <tbody>
            {spend.traffic.map((t) => (
              <tr key={t.purpose}>
                <td>{t.label}{t.over_the_uplink ? '' : ' (free: not over the uplink)'}</td>
                <td class="num">{t.bytes_per_minute == null ? '—' : bytes(t.bytes_per_minute)}</td>
                <td class="num">{bytes(t.bytes)}</td>
                <td class="num">{t.calls}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </>
    );
  }
  return (
    <table class="order-table" data-testid="detail-table">
      <tbody>
        <tr><td>Served from this laptop, last minute</td><td class="num">{percent(cache.hit_ratio_now)}</td></tr>
        <tr><td>Served from this laptop, this event</td><td class="num">{percent(cache.hit_ratio_event)}</td></tr>
        <tr><td>Requests this event</td><td class="num">{cache.requests}</td></tr>
        <tr><td>Downloaded from the storefront's server</td><td class="num">{bytes(cache.bytes_from_origin)}</td></tr>
        <tr><td>Files kept</td><td class="num">{cache.storage.objects}</td></tr>
      </tbody>
    </table>
  );
}
