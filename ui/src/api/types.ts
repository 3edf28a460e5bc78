// The node's JSON, by the names the dashboard uses. Every shape the node answers or is
// sent is an alias of `schema.d.ts`, which openapi-typescript generates from the OpenAPI
// document the node serves (GET /api/v1/openapi.json): regenerate it with
// `npm run api:types`; `node tests/api-types.mjs` fails when it is out of date. Nothing
// here restates a field by hand: when the node changes a shape, this follows, and the
// screens that use it stop compiling until they follow too.
//
// Screens import these through `./index.ts`.

import type { components } from './schema';

/** Every schema of the node's OpenAPI document, by the document's name. */
export type Schemas = components['schemas'];

/** A refusal or failure: `{"error":{"code","message"}}`. */
export type ErrorBody = Schemas['ErrorBody'];

// The live snapshot (`GET /api/v1/ops/status`, and every `snapshot` event of the stream).
export type Snapshot = Schemas['OpsStatus'];
export type SyncState = Schemas['SyncState'];
export type ManifestProblem = Schemas['Problem'];
/** A manifest edit the node refused (the previous version stays in force). */
export type ReloadFailure = Schemas['ReloadFailure'];
export type ReloadOutcome = Schemas['ReloadOutcome'];

// The link to the regional hub (`/api/v1/ops/uplink`, and `link` in the snapshot).
export type Link = Schemas['UplinkView'];
export type LinkMode = Schemas['Mode'];
export type Route = Schemas['Route'];
export type RelayPeer = Schemas['RelayPeer'];
export type Runway = Schemas['Runway'];
export type RunwayLimit = Schemas['RunwayLimit'];
/** An order refused over an offline limit, waiting for the operator. */
export type Approval = Schemas['Pending'];

/** One control action in the node's append-only audit log. */
export type AuditEntry = Schemas['AuditEntry'];

// Media: uploads, transcodes, upload tokens.
export type MediaSummary = Schemas['MediaSummary'];
export type TranscodeSummary = Schemas['TranscodeSummary'];
export type ForwardSummary = Schemas['ForwardSummary'];
export type PresetInfo = Schemas['PresetInfo'];
export type Upload = Schemas['UploadView'];
export type Job = Schemas['JobView'];
export type JobList = Schemas['JobList'];
export type StartTranscode = Schemas['StartRequest'];
export type UploadToken = Schemas['TokenView'];
export type IssueToken = Schemas['IssueRequest'];
/** A new upload token: its secret is only in this answer. */
export type IssuedToken = Schemas['Issued'];

// Latency, spend and the asset cache.
/** One window's latency figures for a route (microseconds). */
export type LatencyFigures = Schemas['LatencyFigures'];
export type RouteFigures = Schemas['RouteFigures'];
export type LatencySummary = Schemas['LatencySummary'];
export type BudgetState = Schemas['BudgetState'];
export type Spend = Schemas['SpendView'];
/** Spend against one budget; money in minor units. */
export type SpendLine = Schemas['Line'];
export type SpendComponent = Schemas['ComponentLine'];
export type CacheSummary = Schemas['CacheSummary'];
export type WarmUp = Schemas['WarmView'];
export type PurgeRequest = Schemas['PurgeRequest'];
export type Purged = Schemas['Purged'];

// Orders.
export type Order = Schemas['OrderView'];
export type OrderLine = Schemas['TokenLine'];
export type OrderPage = Schemas['OrderPage'];

// The booth's network and the other booths.
export type DeviceKind = Schemas['DeviceKind'];
export type Device = Schemas['DeviceView'];
/** A service type the node stopped browsing for a while: it flooded the network with names. */
export type PausedType = Schemas['PausedType'];
export type DevicesView = Schemas['DevicesView'];
export type PeerStatus = Schemas['PeerStatus'];
export type Booth = Schemas['Booth'];
export type FleetView = Schemas['FleetView'];
export type PairingCode = Schemas['CodeOnShow'];
export type PairRequest = Schemas['PairBody'];
export type Unpaired = Schemas['Unpaired'];

// The controls (`GET /api/v1/ops/controls`) and runbooks.
export type ControlsView = Schemas['ControlsView'];
export type Sheddable = Schemas['Sheddable'];
export type Notice = Schemas['Notice'];
export type LastRun = Schemas['LastRun'];
export type LevelView = Schemas['LevelView'];
export type RunbookView = Schemas['RunbookView'];
export type StepReport = Schemas['StepReport'];
export type RunReport = Schemas['RunReport'];
export type DegradeRequest = Schemas['DegradeRequest'];
export type FailoverRequest = Schemas['FailoverRequest'];
export type DegradedRequest = Schemas['Degraded'];
export type ForwardingRequest = Schemas['Forwarding'];

// Teardown.
export type TeardownStep = Schemas['TeardownStep'];
export type TeardownStepView = Schemas['StepView'];
export type TeardownView = Schemas['TeardownView'];
export type TeardownRequest = Schemas['TeardownRequest'];
/** A new operator token: shown only in this answer. */
export type RotatedToken = Schemas['RotatedToken'];
export type StaffMember = Schemas['StaffView'];
export type Enrollment = Schemas['Enrollment'];
export type KioskView = Schemas['KioskView'];
export type EnrolledKiosk = Schemas['EnrolledKiosk'];
/** An automatic teardown counting down before it closes the booth (staff may cancel it). */
export type CountdownView = Schemas['CountdownView'];

// The booth's clock (`/api/v1/ops/clock`): the time the booth trusts, the laptop's clock,
// any doubt about it in words, and this event's steps of the laptop's clock.
export type ClockView = Schemas['ClockView'];
export type ClockStepView = Schemas['ClockStepView'];
/** The lead settles a doubt about the time (`POST /api/v1/ops/clock/confirm`). */
export type ConfirmTime = Schemas['ConfirmTime'];
/** Whose word settles it: `laptop` (its clock is right) or `booth` (keep the booth's time). */
export type Trust = Schemas['Trust'];

// The charts (`GET /api/v1/ops/charts/{name}.{svg,png}`).
export type ChartSpan = Schemas['Span'];
/** The charts the dashboard shows (the document takes any `{chart}` file name). UI-only. */
export type ChartName = 'latency' | 'hit-ratio' | 'spend' | 'transcodes';

// Printing (`/api/v1/ops/printers`, `/api/v1/ops/print-jobs`): the manifest's printers
// with their state, and each order's print jobs (its pickup ticket, receipts, reprints).
/** A printer as the Printers screen sees it. */
export type PrinterView = Schemas['PrinterView'];
/** One print job of an order: an original (`copy` 0) or the nth reprint. */
export type PrintJob = Schemas['PrintJob'];
export type PrintJobKind = Schemas['JobKind'];
/** `sent` (ESC/POS: every byte written) and `confirmed` (IPP: the printer said completed) are printed. */
export type PrintJobState = Schemas['JobState'];
/**
 * `PrinterView.state`, `paper` and `role`: the document types them as strings (the node
 * serialises them by hand), so these name the values it documents. UI-only; a value the
 * node adds later is shown as it comes.
 */
export type PrinterState = 'ready' | 'printing' | 'needs_attention' | 'not_checked';
export type PaperState = 'ok' | 'out' | 'unknown';
export type PrinterRole = 'receipts' | 'tickets' | 'labels';
