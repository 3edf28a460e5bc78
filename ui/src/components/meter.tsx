// Meter: a bar for a share of something (space used, budget spent, a clip's progress),
// with its figure for screen readers. `progress` for work under way, `meter` for a level.

export function Meter({ share, label, tone = '', role = 'meter' }: { share: number; label: string; tone?: string; role?: 'meter' | 'progressbar' }) {
  const pct = Math.max(0, Math.min(100, Math.round(share * 100)));
  return (
    <div class="meter" role={role} aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
      <span class={tone} style={{ width: `${pct}%` }} />
    </div>
  );
}
