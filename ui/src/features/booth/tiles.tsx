// The booth screen's tiles: what is selling, what waits to sync, the price engine; the
// booth's speed, the asset cache, spend against budget and transcodes, each opening its
// detail view; the way in to the Media screen; and the neighbours (Devices and Fleet).

import type { ChartName, Snapshot } from '../../api';
import { Meter } from '../../components/meter';
import { Tile } from '../../components/tile';
import { bytes, cacheTile, latencyTile, money, priceEngine, spendTile, transcodeTile } from '../../lib/format';

type Open = (name: ChartName) => void;

/** The big button that opens a tile's chart and figures. */
function OpenDetail({ name, label, onOpen }: { name: ChartName; label: string; onOpen: Open }) {
  return (
    <button type="button" class="big-button tile-open" data-testid={`open-${name}`} aria-label={`${label}: chart and figures`} onClick={() => onOpen(name)}>
      Details
    </button>
  );
}

export function Tiles({ snapshot, onOpen, onSheet }: { snapshot: Snapshot; onOpen: Open; onSheet: (s: 'devices' | 'fleet' | 'media') => void }) {
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
      <LatencyTile latency={snapshot.latency} onOpen={onOpen} />
      <CacheTile cache={snapshot.cache} onOpen={onOpen} />
      <SpendTile spend={snapshot.spend} timeZone={event.timezone} onOpen={onOpen} />
      <TranscodeTile snapshot={snapshot} onOpen={onOpen} onMedia={() => onSheet('media')} />
      <Tile title="Neighbours" testid="neighbours">
        <p class="sub">Other booths, printers and devices on this network, and the event's fleet.</p>
        <div class="buttons">
          <button type="button" class="big-button" onClick={() => onSheet('devices')} data-testid="open-devices">Devices nearby</button>
          <button type="button" class="big-button" onClick={() => onSheet('fleet')} data-testid="open-fleet">Fleet</button>
        </div>
      </Tile>
    </div>
    </>
  );
}

/** Files served from this laptop rather than the storefront's server, and the warm-up. */
function LatencyTile({ latency, onOpen }: { latency: Snapshot['latency']; onOpen: Open }) {
  const t = latencyTile(latency);
  return (
    <Tile title="Speed (p95 / p99)" testid="latency" tone={t.tone}>
      <p class="big" data-testid="latency-value">
        {t.headline}
      </p>
      <p class="sub">{t.caption}</p>
      {t.rows.length > 1 && (
        <ul class="rows">
          {t.rows.slice(1).map((r) => (
            <li key={r.name} class={r.slow ? 'slow' : ''}>
              {r.name}: <strong>{r.figures}</strong>
            </li>
          ))}
        </ul>
      )}
      <OpenDetail name="latency" label="Speed" onOpen={onOpen} />
    </Tile>
  );
}

/** Spend so far against the total budget, the gauge, and where the burn rate leads. */
function SpendTile({ spend, timeZone, onOpen }: { spend: Snapshot['spend']; timeZone: string; onOpen: Open }) {
  const t = spendTile(spend, timeZone);
  return (
    <Tile title="Spend vs budget" testid="spend" tone={t.tone}>
      <p class="big" data-testid="spend-value">
        {t.headline}
      </p>
      <p class="sub">{t.caption}</p>
      {t.gauge && (
        <Meter share={t.gauge.share} label={t.gauge.label} tone={t.tone} />
      )}
      <p class="sub" data-testid="spend-projection">
        {t.projection}
      </p>
      {t.alert && (
        <p class="note" role="status" data-testid="spend-alert">
          {t.alert}
        </p>
      )}
      <OpenDetail name="spend" label="Spend" onOpen={onOpen} />
    </Tile>
  );
}

function TranscodeTile({ snapshot, onOpen, onMedia }: { snapshot: Snapshot; onOpen: Open; onMedia: () => void }) {
  const t = transcodeTile(snapshot.spend, snapshot.media);
  return (
    <Tile title="Transcodes" testid="transcodes" tone={t.tone}>
      <p class="big" data-testid="transcodes-value">
        {t.headline}
      </p>
      <p class="sub">{t.caption}</p>
      <p class="sub" data-testid="transcodes-running">{t.running}</p>
      <div class="buttons">
        <button type="button" class="big-button" onClick={onMedia} data-testid="open-media">Media</button>
        <OpenDetail name="transcodes" label="Transcodes" onOpen={onOpen} />
      </div>
    </Tile>
  );
}

function CacheTile({ cache, onOpen }: { cache: Snapshot['cache']; onOpen: Open }) {
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
          <Meter share={t.warm.share} label="Storefront warm-up" role="progressbar" />
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
      <OpenDetail name="hit-ratio" label="Cache" onOpen={onOpen} />
    </Tile>
  );
}
