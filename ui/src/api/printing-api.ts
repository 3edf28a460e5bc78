// The printing calls, one method per route: the manifest's printers and their state
// (the lead's operator token only), an order's print jobs, a reprint, a receipt a
// customer asked for, and printing what a printer held through an outage (staff at the
// counter with their session, or the lead); a test page, pausing and the ticket's
// preview (the lead). Who the caller is travels in the client's
// headers: the dashboard makes one with the operator token (`Connection.printing()`),
// the counter over its own client (a staff session, or the lead's token on the
// dashboard's Sell screen).

import type { NodeClient } from './node-client';
import type { PrinterView, PrintJob } from './types';

const id = encodeURIComponent;

export class PrintingApi {
  constructor(readonly client: NodeClient) {}

  /** Every printer of the manifest, with its state as last seen and its queue. */
  printers(signal?: AbortSignal): Promise<PrinterView[]> {
    return this.client.get('/api/v1/ops/printers', signal);
  }

  /** An order's jobs (originals and reprints), oldest first. */
  jobsOf(orderId: string, signal?: AbortSignal): Promise<PrintJob[]> {
    return this.client.get(`/api/v1/ops/print-jobs?order=${id(orderId)}`, signal);
  }

  /** Prints a job again: a new job (the next copy, marked REPRINT on paper). */
  reprint(jobId: string): Promise<PrintJob> {
    return this.client.post(`/api/v1/ops/print-jobs/${id(jobId)}/reprint`, undefined);
  }

  /** Prints the order's receipt; a 409 `no_printer` when no printer prints receipts. */
  async printReceipt(orderId: string): Promise<void> {
    await this.client.post(`/api/v1/ops/orders/${id(orderId)}/receipt-print`, undefined);
  }

  /** Prints the order's bag label; a 409 `no_printer` when no printer prints labels. */
  async printLabel(orderId: string): Promise<void> {
    await this.client.post(`/api/v1/ops/orders/${id(orderId)}/label-print`, undefined);
  }

  /** A test page on the printer, through the queue like any job. */
  testPrint(printer: string): Promise<PrintJob> {
    return this.client.post(`/api/v1/ops/printers/${id(printer)}/test-print`, undefined);
  }

  /** Pauses (its jobs wait) or resumes a printer. */
  async setPaused(printer: string, paused: boolean): Promise<void> {
    await this.client.send('POST', `/api/v1/ops/printers/${id(printer)}/${paused ? 'pause' : 'resume'}`);
  }

  /** What a ticket looks like on the printer's paper (a PNG). */
  preview(printer: string, signal?: AbortSignal): Promise<Blob> {
    return this.client.blob(`/api/v1/ops/printers/${id(printer)}/preview`, signal);
  }

  /** Prints what the printer held after an outage; answers how many jobs. */
  release(printer: string): Promise<number> {
    return this.client.post(`/api/v1/ops/printers/${id(printer)}/release`, undefined);
  }
}
