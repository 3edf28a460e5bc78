// The tiles: what is selling, what waits to sync, the price engine, and the places the
// telemetry, spend, media and devices capabilities fill in; the asset cache's figures.

import { bytes, cacheTile, money, priceEngine } from './format';
import type { Snapshot } from './types';

function Tile({ title, testid, children, tone = '' }: { title: string; testid: string; children: preact.ComponentChildren; tone?: string }) {
  return (
    <section class={`tile ${tone}`} aria-label={title} data-testid={testid}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

function Pending({ title, testid, what }: { title: string; testid: string; what: string }) {
  return (
    <Tile title={title} testid={testid} tone="pending">
      <p class="big muted">—</p>
      <p class="sub">{what}</p>
    </Tile>
  );
}

export function Tiles({ snapshot }: { snapshot: Snapshot }) {
  const { today, orders, event, manifest } = snapshot;
  const queued = orders.captured + orders.syncing;
  const engine = priceEngine(manifest);
  return (
    <>
    <div class="tiles primary">
      <Tile title="Orders today" testid="orders-today">
        <p class="big" data-testid="orders-today-value">
          {today.orders}
        </p>
        <p class="sub">{orders.captured + orders.syncing + orders.synced + orders.quarantined} since the booth opened</p>
      </Tile>
      <Tile title="Revenue today" testid="revenue-today">
        <p class="big" data-testid="revenue-today-value">
          {money(today.revenue, event.currency)}
        </p>
        <p class="sub">{money(orders.revenue, event.currency)} in all</p>
      </Tile>
      <Tile title="Waiting to sync" testid="queued" tone={orders.quarantined > 0 ? 'warn' : ''}>
        <p class="big" data-testid="queued-value">
          {queued}
        </p>
        <p class="sub">
          {orders.quarantined > 0
            ? `${orders.quarantined} need${orders.quarantined === 1 ? 's' : ''} attention — see the order list`
            : queued === 0
              ? 'Every order is sent'
              : 'Kept safely on this laptop until sent'}
        </p>
      </Tile>
      <Tile title="Price engine" testid="price-engine" tone={engine.problem ? 'bad' : ''}>
        <p class="mid">{engine.headline}</p>
        <p class="sub">{engine.detail}</p>
        {engine.problem && (
          <p class="problem" role="alert" data-testid="manifest-problem">
            {engine.problem}
          </p>
        )}
      </Tile>
    </div>
    <div class="tiles secondary">
      <Pending title="Speed (p95 / p99)" testid="latency" what="Response times appear here once telemetry is on." />
      <CacheTile cache={snapshot.cache} />
      <Pending title="Spend vs budget" testid="spend" what="Spend appears here once metering is on." />
      <Pending title="Transcodes" testid="transcodes" what="Video minutes appear here once media is on." />
      <Pending title="Devices" testid="devices" what="Printers, kiosks and peers appear here once discovery runs." />
    </div>
    </>
  );
}

/** Files served from this laptop rather than the storefront's server, and the warm-up. */
function CacheTile({ cache }: { cache: Snapshot['cache'] }) {
  const t = cacheTile(cache);
  return (
    <Tile title="Cache" testid="cache" tone={t.tone}>
      <p class="big" data-testid="cache-hit-ratio">
        {t.headline}
      </p>
      <p class="sub">{t.caption}</p>
      {t.event && <p class="sub">{t.event}</p>}
      {t.warm && (
        <div data-testid="cache-warm-up">
          <div
            class="meter"
            role="progressbar"
            aria-label="Storefront warm-up"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.round(t.warm.share * 100)}
          >
            <span style={{ width: `${Math.round(t.warm.share * 100)}%` }} />
          </div>
          <p class="sub">{t.warm.label}</p>
        </div>
      )}
      {t.stale && (
        <p class="note" data-testid="cache-stale">
          {t.stale}
        </p>
      )}
      {t.ready && <p class="sub">{t.ready}</p>}
      <p class="sub">
        {cache.storage.objects} files kept · {bytes(cache.storage.disk_bytes)} on disk
      </p>
    </Tile>
  );
}
