import { describe, expect, it } from 'vitest';
import { contrast, textOn } from './theme';

describe('event colours', () => {
  it('measure contrast as WCAG does', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 0);
    expect(contrast('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
  });
  it('put white on dark colours and black on light ones', () => {
    expect(textOn('#0b3d5c').color).toBe('#ffffff');
    expect(textOn('#ffd23f').color).toBe('#000000');
    expect(textOn('#0b3d5c').ratio).toBeGreaterThan(4.5);
  });
});
