// The notice no one can miss while the booth doubts the laptop's clock (under the
// header, and at the top of every sheet): the node's words, both clocks counting on,
// whether automations wait, and the lead's two choices.

import { clockReading } from '../../lib/format';
import { useTicking } from '../../lib/polled';
import type { ClockWatch } from './watch';

export function ClockNotice({ watch, timeZone, onDetails }: { watch: ClockWatch; timeZone: string; onDetails: (() => void) | null }) {
  const mono = useTicking();
  const v = watch.view;
  const booth = watch.boothAt(mono);
  const laptop = watch.laptopAt(mono);
  if (!v?.in_doubt || !booth || !laptop) return null;
  return (
    <section class="alert-panel warn clock-notice" aria-labelledby="clock-notice-title" data-testid="clock-notice">
      <div class="clock-notice-text">
        <h2 class="alert-title" id="clock-notice-title">Check the time</h2>
        <p role="alert" data-testid="clock-notice-words">{v.notice ?? "The booth is not sure that the laptop's clock is right."}</p>
        <div class="alert-times">
          <dl>
            <div>
              <dt>Laptop's clock</dt>
              <dd data-testid="clock-notice-laptop">{clockReading(laptop, timeZone, booth)}</dd>
            </div>
            <div>
              <dt>Booth's time</dt>
              <dd data-testid="clock-notice-booth">{clockReading(booth, timeZone)}</dd>
            </div>
          </dl>
          {onDetails && (
            <button type="button" class="big-button" data-testid="open-clock-details" onClick={onDetails}>
              Clock details
            </button>
          )}
        </div>
        {v.automations_held && (
          <p class="alert-strong" data-testid="automations-held">
            Until you choose, the automatic teardown and timed runbooks wait.
          </p>
        )}
        <p class="alert-sub">
          If the laptop's clock is right, the booth's time jumps to it. If not, the booth keeps counting from its own time.
        </p>
      </div>
      <div class="clock-choices" role="group" aria-label="Which time is right">
        <button type="button" class="big-button" data-testid="trust-laptop" disabled={watch.busy} onClick={() => watch.confirm('laptop')}>
          The laptop's clock is right
        </button>
        <button type="button" class="big-button" data-testid="trust-booth" disabled={watch.busy} onClick={() => watch.confirm('booth')}>
          Keep the booth's time
        </button>
      </div>
    </section>
  );
}
