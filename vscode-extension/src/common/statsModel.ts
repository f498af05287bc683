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
    method: string;
    status: string;
    promoted: boolean;
    startedAt: string;
    finishedAt: string;
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
    acceptRate: number | null;
    meanSimilarity: number | null;
    meanReward: number | null;
    embeddings: string | null;
    byArtifactType: { labels: string[]; accept: number[]; edit: number[]; reject: number[] };
    daily: {
        labels: string[];
        events: number[];
        acceptRate: (number | null)[];
        meanEditDistance: (number | null)[];
        meanSimilarity: (number | null)[];
    };
    rewardHistogram: { labels: string[]; counts: number[] };
    runs: RunView[];
}

const MAX_TEXT = 120;
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

const SCALAR_METRICS = ['valLoss', 'valSimilarity', 'trainLoss', 'validity', 'reward'];

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
    const metrics = obj(o.metrics);
    const summary = SCALAR_METRICS.filter((k) => num(metrics[k]) !== null)
        .map((k) => `${k} ${formatNumber(metrics[k] as number)}`)
        .join(' · ');
    return {
        id,
        method: text(o.method, '?'),
        status: text(o.status, 'unknown'),
        promoted: o.promoted === true || o.promoted === 1,
        startedAt: text(o.startedAt),
        finishedAt: text(o.finishedAt),
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
        acceptRate: num(s.acceptRate),
        meanSimilarity: num(s.meanSimilarity),
        meanReward: num(s.meanReward),
        embeddings,
        byArtifactType: {
            labels: byType.map(([name]) => text(name)),
            accept: byType.map(([, c]) => countsOf(c).accept),
            edit: byType.map(([, c]) => countsOf(c).edit),
            reject: byType.map(([, c]) => countsOf(c).reject),
        },
        daily: {
            labels: daily.map((d) => text(d.date)),
            events: daily.map((d) => count(d.events)),
            acceptRate: daily.map((d) => num(d.acceptRate)),
            meanEditDistance: daily.map((d) => num(d.meanEditDistance)),
            meanSimilarity: daily.map((d) => num(d.meanSimilarity)),
        },
        rewardHistogram: histogram(s.rewardHistogram),
        runs,
    };
}

/**
 * "3 pending · 72% accepted" for the status bar; acceptRate is 0..1. dataDir: the folder the
 * server actually uses (it reports it in `editloop.stats`), when it says.
 */
export function statusText(stats: unknown): { pending: number; acceptRate: number | null; dataDir?: string } {
    const s = obj(stats);
    const rate = num(s.acceptRate);
    const out: { pending: number; acceptRate: number | null; dataDir?: string } = {
        pending: count(s.pending),
        acceptRate: rate === null ? null : Math.min(1, Math.max(0, rate)),
    };
    if (typeof s.dataDir === 'string' && s.dataDir.trim()) {
        out.dataDir = s.dataDir.slice(0, 1000);
    }
    return out;
}

export function percent(rate: number | null): string {
    return rate === null ? '–' : `${Math.round(rate * 100)}%`;
}
