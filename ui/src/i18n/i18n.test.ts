import { describe, expect, it } from 'vitest';
import de from './de.json';
import en from './en.json';
import { pickLanguage } from './index';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('translations', () => {
  it('have the same keys in every language', () => {
    expect(Object.keys(de).sort()).toEqual(Object.keys(en).sort());
  });
  it('fill the same placeholders', () => {
    for (const [key, text] of Object.entries(en)) {
      expect(placeholders((de as Record<string, string>)[key]), key).toEqual(placeholders(text));
    }
  });
  it('say something', () => {
    for (const words of [en, de]) for (const [key, text] of Object.entries(words)) expect(text.trim(), key).not.toBe('');
  });
});

describe('language picking', () => {
  it('keeps the saved choice first', () => {
    expect(pickLanguage('de', ['en-GB'])).toBe('de');
  });
  it('takes the first browser language we have', () => {
    expect(pickLanguage(null, ['fr-FR', 'de-AT', 'en'])).toBe('de');
    expect(pickLanguage('xx', ['en-US', 'de'])).toBe('en');
  });
  it('falls back to English', () => {
    expect(pickLanguage(null, ['fr', 'it'])).toBe('en');
    expect(pickLanguage(null, [])).toBe('en');
  });
});
