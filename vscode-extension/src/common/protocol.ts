/**
 * What the extension sends to and receives from the Editloop server (docs: CONTRACT.md).
 * Messages from the server are checked here before anything draws them: a newer or broken
 * server must not break the editor.
 */

export const ServerCommand = {
    track: 'editloop.track',
    generate: 'editloop.generate',
    accept: 'editloop.accept',
    reject: 'editloop.reject',
    region: 'editloop.region',
    stats: 'editloop.stats',
    train: 'editloop.train',
    cancel: 'editloop.cancel',
    export: 'editloop.export',
    forget: 'editloop.forget',
    inlineAccepted: 'editloop.inlineAccepted',
} as const;

export const RegionsNotification = 'editloop/regions';
export const RunFinishedNotification = 'editloop/runFinished';
/** Params `{}`: events were recorded (by this server or another process); stats views refetch. */
export const StatsChangedNotification = 'editloop/statsChanged';

export interface Position {
    line: number;
    character: number;
}

export interface Range {
    start: Position;
    end: Position;
}

export type RegionStatus = 'pending' | 'accepted' | 'edited' | 'rejected' | 'lost';

export interface RegionInfo {
    id: string;
    range: Range;
    status: string;
}

export interface RegionsParams {
    uri: string;
    regions: RegionInfo[];
}

export interface RegionDetail {
    id: string;
    uri: string;
    range: Range;
    status: string;
    original: string;
    current?: string;
    prompt?: string;
    model?: string;
    artifactType?: string;
    similarity?: number | null;
}

export interface RunFinishedParams {
    runId: string;
    status: string;
    metrics: Record<string, unknown>;
    /** Why a failed run failed, when the server says. */
    error?: string;
    /** The run's model became the active one (also in metrics.promoted from older servers). */
    promoted?: boolean;
}

// -- Commands ------------------------------------------------------------------------------------
// One params and one result interface per `workspace/executeCommand` command, as the server
// declares them (server/editloop/lsp/params.py); tests/lsp/test_protocol_ts.py checks that both
// sides name the same commands, fields, optional fields and types. One field per line.

/** Which params and result each command has. */
export interface CommandTypes {
    'editloop.track': { params: TrackParams; result: TrackResult };
    'editloop.generate': { params: GenerateParams; result: GenerateResult };
    'editloop.accept': { params: RegionParams; result: EventResult };
    'editloop.reject': { params: RegionParams; result: EventResult };
    'editloop.region': { params: RegionParams; result: RegionResult };
    'editloop.stats': { params: StatsParams; result: StatsResult };
    'editloop.forget': { params: ForgetParams; result: ForgetResult };
    'editloop.advanceClock': { params: AdvanceClockParams; result: AdvanceClockResult };
    'editloop.inlineAccepted': { params: InlineAcceptedParams; result: InlineAcceptedResult };
    'editloop.train': { params: TrainParams; result: TrainResult };
    'editloop.cancel': { params: CancelParams; result: CancelResult };
    'editloop.runs': { params: RunsParams; result: RunsResult };
    'editloop.buildBatch': { params: BuildBatchParams; result: BuildBatchResult };
    'editloop.export': { params: ExportParams; result: ExportResult };
}

/** The AI output already in the document at `range`. */
export interface TrackParams {
    uri: string;
    range: Range;
    artifactType: string;
    prompt?: string;
    model?: string;
    language?: string;
    modelVersion?: string;
}

export interface TrackResult {
    regionId: string;
    /** Canonical: what the server recorded. */
    artifactType: string;
}

export interface GenerateParams {
    uri: string;
    position: Position;
    prompt: string;
    /** Inferred from the document when absent. */
    artifactType?: string;
}

/** The wire form; names.ts `GenerateResult` is what the extension keeps of it. */
export interface GenerateResult {
    regionId: string;
    text: string;
    model: string;
    modelVersion: string | null;
    /** "" (the first output was used), "beam" or "base". */
    retry: string;
}

/** accept, reject and region: one region by id. */
export interface RegionParams {
    regionId: string;
}

/** A recorded outcome: accept, reject, and the events of advanceClock. */
export interface EventResult {
    eventId: number;
    regionId: string | null;
    /** accept | edit | reject */
    action: string;
    /** explicit | implicit */
    source: string;
    similarity: number;
    reward: number;
    validation: number | null;
}

/** The wire form of `editloop.region`; RegionDetail is what the extension keeps of it. */
export interface RegionResult {
    id: string;
    uri: string;
    status: string;
    prompt: string;
    model: string;
    artifactType: string;
    language: string | null;
    original: string;
    current: string | null;
    createdAt: string;
    similarity: number | null;
    /** Absent once the region is no longer tracked. */
    range?: Range;
}

export interface StatsParams {
    artifactType?: string;
}

/** The server's stats summary (statsModel.ts reads it defensively) plus two fields. */
export interface StatsResult {
    /** on | off */
    embeddings: string;
    dataDir: string;
    [key: string]: unknown;
}

/** `{uri}` or `{all: true}`. */
export interface ForgetParams {
    uri?: string;
    all?: boolean;
}

export interface ForgetResult {
    deleted: number;
}

/** Test facility (`editloop serve --manual-clock`). */
export interface AdvanceClockParams {
    seconds: number;
}

export interface AdvanceClockResult {
    now: number;
    events: EventResult[];
}

export interface InlineAcceptedParams {
    shownId: string;
}

export interface InlineAcceptedResult {
    regionId: string;
}

export interface TrainParams {
    /** auto | sft | dpo | kto */
    method?: string;
    artifactType?: string;
    /** Optuna trials; 0: no search. */
    search?: number;
    /** TrainConfig fields over the settings' run. */
    settings?: Record<string, unknown>;
}

export interface TrainResult {
    runId: string;
}

export interface CancelParams {
    runId: string;
}

export interface CancelResult {
    runId: string;
    status: string;
}

export interface RunsParams {}

export interface RunsResult {
    runs: Record<string, unknown>[];
}

export interface BuildBatchParams {
    artifactType?: string;
    method?: string;
}

export interface BuildBatchResult {
    batchId: string;
    counts: Record<string, number>;
}

export interface ExportParams {
    /** sft | dpo | kto | openai */
    format: string;
    /** Absent: <dataDir>/exports/<format>-<time>.jsonl */
    path?: string;
    overwrite?: boolean;
    artifactType?: string;
}

export interface ExportResult {
    path: string;
    rows: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNat(v: unknown): v is number {
    return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

export function isPosition(v: unknown): v is Position {
    return isObject(v) && isNat(v.line) && isNat(v.character);
}

export function isRange(v: unknown): v is Range {
    return isObject(v) && isPosition(v.start) && isPosition(v.end) && comparePositions(v.start, v.end) <= 0;
}

/** Region ids may be numbers on the wire; the extension keeps them as strings. */
function idOf(v: unknown): string | undefined {
    if (typeof v === 'string' && v !== '') {
        return v;
    }
    if (typeof v === 'number' && Number.isFinite(v)) {
        return String(v);
    }
    return undefined;
}

/** Parses `editloop/regions`; undefined when the message is unusable. Bad regions are dropped. */
export function parseRegionsParams(v: unknown): RegionsParams | undefined {
    if (!isObject(v) || typeof v.uri !== 'string' || !Array.isArray(v.regions)) {
        return undefined;
    }
    const regions: RegionInfo[] = [];
    for (const r of v.regions) {
        if (!isObject(r) || !isRange(r.range)) {
            continue;
        }
        const id = idOf(r.id);
        if (id === undefined) {
            continue;
        }
        regions.push({ id, range: r.range, status: typeof r.status === 'string' ? r.status : 'pending' });
    }
    return { uri: v.uri, regions };
}

export function parseRegionDetail(v: unknown): RegionDetail | undefined {
    if (!isObject(v) || !isRange(v.range) || typeof v.original !== 'string') {
        return undefined;
    }
    const id = idOf(v.id);
    if (id === undefined) {
        return undefined;
    }
    const opt = (x: unknown) => (typeof x === 'string' ? x : undefined);
    return {
        id,
        uri: typeof v.uri === 'string' ? v.uri : '',
        range: v.range,
        status: typeof v.status === 'string' ? v.status : 'pending',
        original: v.original,
        current: opt(v.current),
        prompt: opt(v.prompt),
        model: opt(v.model),
        artifactType: opt(v.artifactType),
        similarity: typeof v.similarity === 'number' && Number.isFinite(v.similarity) ? v.similarity : null,
    };
}

export function parseRunFinished(v: unknown): RunFinishedParams | undefined {
    if (!isObject(v)) {
        return undefined;
    }
    const runId = idOf(v.runId);
    if (runId === undefined) {
        return undefined;
    }
    const out: RunFinishedParams = {
        runId,
        status: typeof v.status === 'string' ? v.status : 'unknown',
        metrics: isObject(v.metrics) ? v.metrics : {},
    };
    if (typeof v.promoted === 'boolean') {
        out.promoted = v.promoted;
    }
    if (typeof v.error === 'string' && v.error.trim()) {
        out.error = v.error.trim().slice(0, 500);
    }
    return out;
}

/** The `runId` of an `editloop.train` result, or undefined. */
export function runIdOf(result: unknown): string | undefined {
    return isObject(result) ? idOf(result.runId) : undefined;
}

/** The `regionId` of an `editloop.track`/`editloop.generate` result, or undefined. */
export function regionIdOf(result: unknown): string | undefined {
    return isObject(result) ? idOf(result.regionId) : undefined;
}

/** The canonical `artifactType` an `editloop.track` result reports, or undefined. */
export function artifactTypeOf(result: unknown): string | undefined {
    return isObject(result) && typeof result.artifactType === 'string' && result.artifactType ? result.artifactType.slice(0, 80) : undefined;
}

export function comparePositions(a: Position, b: Position): number {
    return a.line - b.line || a.character - b.character;
}

/** True when `p` lies in `r`, both ends included (a cursor right after a region still belongs to it). */
export function rangeContains(r: Range, p: Position): boolean {
    return comparePositions(r.start, p) <= 0 && comparePositions(p, r.end) <= 0;
}

export function isPending(region: RegionInfo): boolean {
    return region.status === 'pending';
}

export { isObject };
