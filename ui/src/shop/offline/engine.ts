// The node's own price engine, compiled to WebAssembly (`src/pricing/engine/`, made by
// scripts/build-pricing from core), for an enrolled kiosk that cannot reach the booth.
// Loaded only when a kiosk asks for it — a phone never downloads it — and while the
// kiosk is online, so the shop's service worker keeps the `.wasm` (CacheFirst) and its
// JS glue (precached with the shop) for a reload with the network cut.
//
// Owns: loading the module and an `Engine` per price book (by digest). Never: prices
// by rules of its own (every price comes from the engine, exactly as the node prices),
// or reads a clock (the caller passes the moment).

import type { BasketLine, QuoteResponse } from '../../api/selling';
import wasmUrl from '../../pricing/engine/boothcloud_pricing_bg.wasm?url';

type Glue = typeof import('../../pricing/engine/boothcloud_pricing.js');

/** A priced basket as the engine (and the node's quote) has it. */
export type PricedBasket = Pick<QuoteResponse, 'currency' | 'lines' | 'discounts' | 'subtotal' | 'discount' | 'total' | 'tier'>;

let glue: Promise<Glue> | null = null;

function loadGlue(): Promise<Glue> {
  if (!glue) {
    glue = (async () => {
      const module = await import('../../pricing/engine/boothcloud_pricing.js');
      // The bytes, not the response: instantiating from bytes works whatever type the
      // server (or the worker's cache) gave the file.
      const response = await fetch(wasmUrl);
      if (!response.ok) throw new Error(`the price engine could not be loaded (${response.status})`);
      await module.default({ module_or_path: await response.arrayBuffer() });
      return module;
    })();
    glue.catch(() => {
      glue = null; // Tried again next time (the network or the cache may have it then).
    });
  }
  return glue;
}

/** Fetches the engine's file again (through the service worker, once it controls the page). */
export async function warmEngine(): Promise<void> {
  await (await fetch(wasmUrl)).arrayBuffer();
}

export class PriceEngine {
  private constructor(
    private readonly engine: InstanceType<Glue['Engine']>,
    /** The price book's SHA-256, as the node names it. */
    readonly digest: string,
  ) {}

  /** The engine for a price book document; rejects when the document is not the one named. */
  static async load(document: string, digest: string): Promise<PriceEngine> {
    const { Engine } = await loadGlue();
    const engine = new Engine(document);
    if (engine.digest !== digest) {
      engine.free();
      throw new Error('the kept price list does not match its name; fetch the kit again');
    }
    return new PriceEngine(engine, digest);
  }

  /** Prices `lines` at `atMs`; throws an Error saying why a basket cannot be priced. */
  price(lines: BasketLine[], atMs: number, tier: string | null = null): PricedBasket {
    return JSON.parse(this.engine.price(JSON.stringify({ lines, tier }), atMs)) as PricedBasket;
  }

  free(): void {
    this.engine.free();
  }
}
