// Tile: one figure on the booth screen — a titled panel, outlined in the warning or
// problem colour when its figure needs attention.

import type { ComponentChildren } from 'preact';

export function Tile({ title, testid, children, tone = '' }: {
  title: string;
  testid: string;
  children: ComponentChildren;
  /** `warn` or `bad` outline the tile; anything else leaves it plain. */
  tone?: string;
}) {
  return (
    <section class={`tile ${tone}`} aria-label={title} data-testid={testid}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
