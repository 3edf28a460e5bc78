// Making a clip of one upload: where it starts and ends (both optional, typed as seconds
// or minutes and seconds, checked in words before anything is sent) and one button per
// preset. Opens under the upload's row on the Media screen.

import { useState } from 'preact/hooks';
import type { PresetInfo, Upload } from '../../api';
import { checkTrim, type Trim } from './trim';

export function ClipForm({ upload, presets, onMake, onCancel }: {
  upload: Upload;
  presets: PresetInfo[];
  /** Queues the clip; resolves once the node took it, rejects with its refusal in words. */
  onMake: (preset: PresetInfo, trim: Trim) => Promise<void>;
  onCancel: () => void;
}) {
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  // A field the operator must fix, or (field null) the node's refusal.
  const [problem, setProblem] = useState<{ field: 'start' | 'end' | null; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const id = `clip-${upload.id}`;

  const make = async (preset: PresetInfo) => {
    const checked = checkTrim(start, end);
    if (!checked.ok) {
      setProblem({ field: checked.field, text: checked.problem });
      document.getElementById(`${id}-${checked.field}`)?.focus();
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      await onMake(preset, checked.trim);
    } catch (e) {
      setProblem({ field: null, text: `The clip was not started: ${e instanceof Error ? e.message : String(e)}` });
    } finally {
      setBusy(false);
    }
  };

  const field = (which: 'start' | 'end', label: string, hint: string, value: string, set: (v: string) => void) => (
    <label class="field" for={`${id}-${which}`}>
      <span>{label}</span>
      <input id={`${id}-${which}`} type="text" inputMode="decimal" autocomplete="off" spellcheck={false} value={value} placeholder={hint}
        data-testid={`clip-${which}`} aria-invalid={problem?.field === which} aria-describedby={problem?.field === which ? `${id}-problem` : `${id}-hint`}
        onInput={(e) => {
          set((e.currentTarget as HTMLInputElement).value);
          if (problem?.field === which) setProblem(null);
        }} />
    </label>
  );

  return (
    <div class="clip-form" role="group" aria-label={`Make a clip of ${upload.filename ?? 'this upload'}`} data-testid="clip-form">
      <p class="sub" id={`${id}-hint`}>
        Start and end in seconds (12.5) or minutes and seconds (1:05). Leave them empty for the whole video. A poster is the
        picture at the start.
      </p>
      <div class="trim-fields">
        {field('start', 'Start at', 'the beginning', start, setStart)}
        {field('end', 'End at', 'the end', end, setEnd)}
      </div>
      {problem && <p class="notice bad" role="alert" id={`${id}-problem`} data-testid="clip-problem">{problem.text}</p>}
      <div class="buttons">
        {presets.map((p) => (
          <button type="button" class="big-button primary" key={p.name} disabled={busy} data-testid={`make-${p.name}`} onClick={() => void make(p)}>
            {p.format === 'jpeg' ? 'Make poster' : `Make ${p.name}`}
          </button>
        ))}
        <button type="button" class="big-button" onClick={onCancel} data-testid="clip-cancel">Cancel</button>
      </div>
    </div>
  );
}
