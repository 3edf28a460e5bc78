// The event's colours on the shop, only where they stay readable in sunlight: the
// header takes `theme_color` with black or white text, whichever contrasts more (at
// least 4.5:1, WCAG AA, or the house colours stay); the page takes `background_color`
// only if the text on it keeps 7:1. The browser's bar takes the theme colour.

const HEX = /^#([0-9a-f]{6})$/i;

/** WCAG relative luminance of `#rrggbb`. */
export function luminance(hex: string): number {
  const n = parseInt(hex.slice(1), 16);
  const [r, g, b] = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** Black or white on `background`, whichever reads better, with its contrast ratio. */
export function textOn(background: string): { color: string; ratio: number } {
  const black = contrast(background, '#000000');
  const white = contrast(background, '#ffffff');
  return black >= white ? { color: '#000000', ratio: black } : { color: '#ffffff', ratio: white };
}

export function applyTheme(themeColor: string, backgroundColor: string): void {
  const root = document.documentElement.style;
  if (HEX.test(themeColor)) {
    const text = textOn(themeColor);
    if (text.ratio >= 4.5) {
      root.setProperty('--brand', themeColor);
      root.setProperty('--on-brand', text.color);
    }
    let meta = document.querySelector<HTMLMetaElement>('meta[name="theme-color"]');
    if (!meta) {
      meta = document.createElement('meta');
      meta.name = 'theme-color';
      document.head.append(meta);
    }
    meta.content = themeColor;
  }
  if (HEX.test(backgroundColor) && contrast(backgroundColor, '#0a0a0a') >= 7) {
    root.setProperty('--page', backgroundColor);
  }
}
