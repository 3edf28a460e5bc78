// The time screen: the booth's time and the laptop's clock side by side, how far apart
// they are, and this event's jumps of the laptop's clock in words. Opened from the
// header's clock (or the clock notice); a doubt's notice and choices are pinned at its top.

import { Sheet } from '../../components/sheet';
import { clockReading, laptopOffset } from '../../lib/format';
import { useTicking } from '../../lib/polled';
import type { ClockWatch } from './watch';

export function ClockSheet({ watch, timeZone, onClose }: { watch: ClockWatch; timeZone: string; onClose: () => void }) {
  const mono = useTicking();
  const v = watch.view;
  const booth = watch.boothAt(mono);
  const laptop = watch.laptopAt(mono);
  return (
    <Sheet title="The booth's time" testid="clock-sheet" onClose={onClose}>
      {watch.problem && <p class="notice bad" role="alert">{watch.problem}</p>}
      {(!v || !booth || !laptop) && !watch.problem && <p class="loading" aria-busy="true">Asking the booth for its time…</p>}
      {v && booth && laptop && (
        <>
          {/* In doubt, the notice above shows both clocks. */}
          {!v.in_doubt && (
            <div class="figures-grid">
              <div><span class="sub">Booth's time</span><strong data-testid="clock-sheet-booth">{clockReading(booth, timeZone)}</strong></div>
              <div><span class="sub">Laptop's clock</span><strong data-testid="clock-sheet-laptop">{clockReading(laptop, timeZone, booth)}</strong></div>
            </div>
          )}
          <p class="lead" data-testid="clock-offset">{laptopOffset(v.laptop_off_by_ms)}</p>
          <p>
            The booth's time is what every rule of the booth reads: order times, quotes, the event's end and the automatic teardown.
            When the laptop's clock jumps, the booth keeps counting from its own time until the hub, a paired booth or you confirm the new time.
          </p>
          <h3>Jumps of the laptop's clock during this event</h3>
          {v.steps.length === 0
            ? <p class="empty" data-testid="clock-steps-none">The laptop's clock has not jumped during this event.</p>
            : (
              <ol class="plain-list clock-steps" data-testid="clock-steps">
                {v.steps.map((s) => <li key={`${s.at}${s.by_ms}`}>{s.words}</li>)}
              </ol>
            )}
        </>
      )}
    </Sheet>
  );
}
