import { runLabel, runName } from './names';

/**
 * `editloop.stats` result -> what the stats panel draws. Defensive by design: the server's result
 * may grow, shrink or be malformed; every field is checked, missing ones become empty series, and
 * every string is cut to a sane length (it is still rendered as text only, never as markup).
 */

export interface ActionCounts {
    accept: number;
    edit: number;
    reject: number;
}

export interface CurveView {
    steps: number[];
    trainLoss: (number | null)[];
    valLoss: (number | null)[];
    valSimilarity: (number | null)[];
}

export interface RunView {
    id: string;
    /** "run of 12-03 14:05" and "…eb4e90" (names.ts), or the id itself when it has another shape. */
    name: string;
    suffix: string;
    method: string;
    status: string;
    promoted: boolean;
    startedAt: string;
    finishedAt: string;
    /** Why it ended as it did (the server's `reason`, else `error`): shown for failed and cancelled runs. */
    reason: string;
    /** "valLoss 0.41 · valSimilarity 0.87": the scalar metrics, for the runs table. */
    summary: string;
    curve: CurveView;
}

export interface StatsView {
    /** True when nothing was captured yet: the panel shows how to start. */
    empty: boolean;
    total: number;
    pending: number;
    counts: ActionCounts;
    /**
     * Share of AI outputs the user kept, with or without edits (accepted + edited), 0..1. What a
     * user who fixes the output and clicks Accept calls "accepted".
     */
    keptRate: number | null;
    /** Share kept exactly as written (the server's `unchangedRate`, formerly `acceptRate`), 0..1. */
    unchangedRate: number | null;
    meanSimilarity: number | null;
    meanReward: number | null;
    embeddings: string | null;
    byArtifactType: { labels: string[]; accept: number[]; edit: number[]; reject: number[]; keptRate: (number | null)[] };
    daily: {
        labels: string[];
        events: number[];
        keptRate: (number | null)[];
        unchangedRate: (number | null)[];
        meanEditDistance: (number | null)[];
        meanSimilarity: (number | null)[];
    };
    rewardHistogram: { labels: string[]; counts: number[] };
    runs: RunView[];
}

const MAX_TEXT = 120;
const MAX_REASON = 400;
const MAX_ITEMS = 500;

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {};
}

function arr(v: unknown): unknown[] {
    return Array.isArray(v) ? v.slice(0, MAX_ITEMS) : [];
}

function num(v: unknown): number | null {
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function count(v: unknown): number {
    const n = num(v);
    return n !== null && n > 0 ? Math.round(n) : 0;
}

export function text(v: unknown, fallback = ''): string {
    if (typeof v === 'string') {
        return v.length > MAX_TEXT ? v.slice(0, MAX_TEXT - 1) + '…' : v;
    }
    if (typeof v === 'number' && Number.isFinite(v)) {
        return String(v);
    }
    return fallback;
}

/** Like text(), for sentences (a failure's reason): up to MAX_REASON characters. */
function longText(v: unknown): string {
    if (typeof v !== 'string') {
        return '';
    }
    const t = v.trim();
    return t.length > MAX_REASON ? t.slice(0, MAX_REASON - 1) + '…' : t;
}

function rate(v: unknown): number | null {
    const n = num(v);
    return n === null ? null : Math.min(1, Math.max(0, n));
}

/**
 * keptRate and unchangedRate of a stats object (the whole, a type or a day). A server older than
 * keptRate: computed from the counts when they are there; `acceptRate` always meant "unchanged".
 */
function ratesOf(o: Obj, counts: ActionCounts): { keptRate: number | null; unchangedRate: number | null } {
    const total = counts.accept + counts.edit + counts.reject;
    const kept = rate(o.keptRate) ?? (total > 0 ? (counts.accept + counts.edit) / total : null);
    const unchanged = rate(o.unchangedRate) ?? rate(o.acceptRate);
    return { keptRate: kept, unchangedRate: unchanged };
}

function countsOf(v: unknown): ActionCounts {
    const o = obj(v);
    return { accept: count(o.accept), edit: count(o.edit), reject: count(o.reject) };
}

export function formatNumber(n: number): string {
    if (Number.isInteger(n)) {
        return String(n);
    }
    return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(2);
}

function histogram(v: unknown): { labels: string[]; counts: number[] } {
    const o = obj(v);
    const counts = arr(o.counts).map(count);
    const edges = arr(o.edges).map(num);
    const labels = counts.map((_, i) => {
        const lo = edges[i];
        const hi = edges[i + 1];
        return lo !== null && lo !== undefined && hi !== null && hi !== undefined
            ? `${formatNumber(lo)} – ${formatNumber(hi)}`
            : `bin ${i + 1}`;
    });
    return { labels, counts };
}

/** The server's run metrics (server/editloop/store/metrics.py: one camelCase name per metric). */
const SCALAR_METRICS = ['valLoss', 'valSimilarity', 'valValidity'];

function curveOf(v: unknown): CurveView {
    const points = arr(v)
        .map(obj)
        .filter((p) => num(p.step) !== null)
        .sort((a, b) => (a.step as number) - (b.step as number));
    return {
        steps: points.map((p) => p.step as number),
        trainLoss: points.map((p) => num(p.trainLoss)),
        valLoss: points.map((p) => num(p.valLoss)),
        valSimilarity: points.map((p) => num(p.valSimilarity)),
    };
}

function runOf(v: unknown): RunView | undefined {
    const o = obj(v);
    const id = text(o.id);
    if (!id) {
        return undefined;
    }
    const named = runName(id);
    const metrics = obj(o.metrics);
    const summary = SCALAR_METRICS.filter((k) => num(metrics[k]) !== null)
        .map((k) => `${k} ${formatNumber(metrics[k] as number)}`)
        .join(' · ');
    return {
        id,
        name: named ? named.when : runLabel(id),
        suffix: named ? named.suffix : '',
        method: text(o.method, '?'),
        status: text(o.status, 'unknown'),
        promoted: o.promoted === true || o.promoted === 1,
        startedAt: text(o.startedAt),
        finishedAt: text(o.finishedAt),
        reason: longText(o.reason) || longText(o.error),
        summary,
        curve: curveOf(metrics.curve),
    };
}

export function toStatsView(raw: unknown): StatsView {
    const s = obj(raw);
    const counts = countsOf(s.counts);
    const byType = Object.entries(obj(s.byArtifactType)).slice(0, MAX_ITEMS);
    const daily = arr(s.daily)
        .map(obj)
        .filter((d) => typeof d.date === 'string');
    const runs = arr(s.recentRuns)
        .map(runOf)
        .filter((r): r is RunView => r !== undefined);
    const total = count(s.total) || counts.accept + counts.edit + counts.reject;
    const embeddings = s.embeddings === 'on' || s.embeddings === 'off' ? s.embeddings : null;
    return {
        empty: total === 0 && runs.length === 0,
        total,
        pending: count(s.pending),
        counts,
        ...ratesOf(s, counts),
        meanSimilarity: num(s.meanSimilarity),
        meanReward: num(s.meanReward),
        embeddings,
        byArtifactType: {
            labels: byType.map(([name]) => text(name)),
            accept: byType.map(([, c]) => countsOf(c).accept),
            edit: byType.map(([, c]) => countsOf(c).edit),
            reject: byType.map(([, c]) => countsOf(c).reject),
            keptRate: byType.map(([, c]) => ratesOf(obj(c), countsOf(c)).keptRate),
        },
        daily: {
            labels: daily.map((d) => text(d.date)),
            events: daily.map((d) => count(d.events)),
            keptRate: daily.map((d) => ratesOf(d, countsOf(d)).keptRate),
            unchangedRate: daily.map((d) => ratesOf(d, countsOf(d)).unchangedRate),
            meanEditDistance: daily.map((d) => num(d.meanEditDistance)),
            meanSimilarity: daily.map((d) => num(d.meanSimilarity)),
        },
        rewardHistogram: histogram(s.rewardHistogram),
        runs,
    };
}

export interface StatusFigures {
    pending: number;
    /** Outcomes recorded so far (accepted, edited or rejected). */
    total: number;
    keptRate: number | null;
    unchangedRate: number | null;
    dataDir?: string;
}

/**
 * The status bar's figures: pending regions, and of the outputs with an outcome the share kept
 * (with or without edits) and the share kept unchanged; rates are 0..1. dataDir: the folder the
 * server actually uses (it reports it in `editloop.stats`), when it says.
 */
export function statusText(stats: unknown): StatusFigures {
    const s = obj(stats);
    const counts = countsOf(s.counts);
    const out: StatusFigures = {
        pending: count(s.pending),
        total: count(s.total) || counts.accept + counts.edit + counts.reject,
        ...ratesOf(s, counts),
    };
    if (typeof s.dataDir === 'string' && s.dataDir.trim()) {
        out.dataDir = s.dataDir.slice(0, 1000);
    }
    return out;
}

export function percent(rate: number | null): string {
    return rate === null ? '–' : `${Math.round(rate * 100)}%`;
}

/** "kept 98% · unchanged 0%": the two rates, named so that neither reads as the other. */
export function keptWording(keptRate: number | null, unchangedRate: number | null): string {
    return `kept ${percent(keptRate)} · unchanged ${percent(unchangedRate)}`;
}

/** What the two rates mean, for tooltips and title attributes. */
export const RATES_EXPLAINED =
    'kept: AI outputs you kept, as written or after editing them (not rejected); unchanged: kept exactly as written.';
