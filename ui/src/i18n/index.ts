// The words of the selling faces (shop, counter, pickup board, receipt page) in English
// and German, and which language a page speaks: the visitor's saved choice
// (`boothcloud.lang`), else the first of the browser's languages that we have, else
// English. `t(key, vars)` fills `{name}` placeholders; `tn(key, n)` picks the plural form
// (`key.one`, `key.other`) by the language's rules. Numbers and money are not here
// (`lib/format.ts`: the browser's locale, the event's currency).
//
// Every key exists in both files: TypeScript refuses a German file that lacks one, and
// `i18n.test.ts` refuses extra keys and differing placeholders.

import { useEffect, useState } from 'preact/hooks';
import de from './de.json';
import en from './en.json';

export type Key = keyof typeof en;
/** Keys with plural forms, without their `.one` / `.other` ending. */
type PluralBase<K> = K extends `${infer Base}.other` ? Base : never;
export type PluralKey = PluralBase<Key>;

export type Lang = 'en' | 'de';

const WORDS: Record<Lang, Record<Key, string>> = { en, de: de satisfies Record<Key, string> };

/** The languages on offer, each named in itself (for the switch). */
export const LANGUAGES: { code: Lang; name: string }[] = [
  { code: 'en', name: 'English' },
  { code: 'de', name: 'Deutsch' },
];

const SAVED = 'boothcloud.lang';

function isLang(tag: string | null | undefined): tag is Lang {
  return tag === 'en' || tag === 'de';
}

/** The saved choice, else the first browser language we have, else English. */
export function pickLanguage(saved: string | null, browser: readonly string[]): Lang {
  if (isLang(saved)) return saved;
  for (const tag of browser) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLang(primary)) return primary;
  }
  return 'en';
}

function savedChoice(): string | null {
  try {
    return globalThis.localStorage?.getItem(SAVED) ?? null;
  } catch {
    return null;
  }
}

function browserLanguages(): readonly string[] {
  const nav = globalThis.navigator;
  if (!nav) return [];
  return nav.languages?.length ? nav.languages : nav.language ? [nav.language] : [];
}

let current: Lang = pickLanguage(savedChoice(), browserLanguages());
const listeners = new Set<(l: Lang) => void>();

export function lang(): Lang {
  return current;
}

/** Switches the page's language, keeps the choice, and redraws whoever follows it. */
export function setLang(next: Lang): void {
  current = next;
  try {
    globalThis.localStorage?.setItem(SAVED, next);
  } catch {
    // Kept for this page only.
  }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
  for (const l of listeners) l(next);
}

/** The page's language; the component redraws when it changes (use it at a face's root). */
export function useLang(): Lang {
  const [l, set] = useState(current);
  useEffect(() => {
    if (typeof document !== 'undefined') document.documentElement.lang = current;
    listeners.add(set);
    return () => void listeners.delete(set);
  }, []);
  return l;
}

/** The words for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const text = WORDS[current][key] ?? WORDS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

const plurals = new Map<Lang, Intl.PluralRules>();

/** The plural form of `key` for `n` (`{n}` is filled too). */
export function tn(key: PluralKey, n: number, vars: Record<string, string | number> = {}): string {
  let rules = plurals.get(current);
  if (!rules) {
    rules = new Intl.PluralRules(current);
    plurals.set(current, rules);
  }
  const form = `${key}.${rules.select(n)}`;
  const chosen = (form in WORDS[current] ? form : `${key}.other`) as Key;
  return t(chosen, { n, ...vars });
}

/** Words for the test that keeps both files in step. */
export const ALL_WORDS = WORDS;
