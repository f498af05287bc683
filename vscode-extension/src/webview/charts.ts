/**
 * Chart.js configurations for a StatsView, with the theme's colours. Pure (no DOM, no Chart.js
 * import): tests check what each chart shows; main.ts hands the configs to Chart.js.
 */
import { percent, StatsView } from '../common/statsModel';
import { ensureContrast } from './colors';

export interface Palette {
    foreground: string;
    grid: string;
    accept: string;
    edit: string;
    reject: string;
    series: string[];
    fontFamily: string;
}

/** The theme variable (and a fallback) behind each outcome colour and each series colour. */
export const OUTCOME_VARIABLES = {
    accept: ['--vscode-charts-green', '#388a34'],
    edit: ['--vscode-charts-orange', '#d18616'],
    reject: ['--vscode-charts-red', '#e51400'],
} as const;
const SERIES_VARIABLES = ['--vscode-charts-blue', '--vscode-charts-purple', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-red'];

/**
 * The palette from the theme's variables (`read(name)` gives a variable's value, '' when unset):
 * green for outputs kept unchanged, orange for edited ones, red for rejected ones, each darkened
 * (light themes) or lightened (dark themes) only as far as needed for 3:1 contrast with the
 * panel's `background`.
 */
export function chartPalette(read: (name: string) => string, background: string): Palette {
    const value = (name: string, fallback: string) => read(name).trim() || fallback;
    const chart = (name: string, fallback: string) => ensureContrast(value(name, fallback), background, 3);
    return {
        foreground: value('--vscode-foreground', '#888'),
        grid: value('--vscode-charts-lines', 'rgba(128,128,128,0.3)'),
        accept: chart(...OUTCOME_VARIABLES.accept),
        edit: chart(...OUTCOME_VARIABLES.edit),
        reject: chart(...OUTCOME_VARIABLES.reject),
        series: SERIES_VARIABLES.map((v) => chart(v, '#1a85ff')),
        fontFamily: value('--vscode-font-family', 'sans-serif'),
    };
}

/** The short name of a run in a legend: "12-03 14:05 sft ★". */
function runLegend(r: StatsView['runs'][number]): string {
    return `${r.name.replace(/^run of /, '')} ${r.method}${r.promoted ? ' ★' : ''}`;
}

export interface ChartSpec {
    key: string;
    title: string;
    /** A sentence for screen readers (the canvas itself is opaque). */
    summary: string;
    config: { type: 'bar' | 'line' | 'doughnut'; data: unknown; options: unknown };
}

function pct(r: number | null): number | null {
    return r === null ? null : Math.round(r * 1000) / 10;
}

function axes(p: Palette, extra: Record<string, unknown> = {}) {
    const axis = { ticks: { color: p.foreground }, grid: { color: p.grid }, border: { color: p.grid } };
    return { x: { ...axis }, y: { ...axis, beginAtZero: true }, ...extra };
}

function base(p: Palette, scales?: unknown) {
    return {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        color: p.foreground,
        font: { family: p.fontFamily },
        plugins: { legend: { labels: { color: p.foreground, boxWidth: 12 } } },
        ...(scales ? { scales } : {}),
    };
}

export function chartSpecs(view: StatsView, p: Palette): ChartSpec[] {
    const specs: ChartSpec[] = [];
    const { accept, edit, reject } = view.counts;
    if (accept + edit + reject > 0) {
        specs.push({
            key: 'actions',
            title: 'Outcomes',
            summary: `${accept} kept unchanged, ${edit} kept after edits, ${reject} rejected`,
            config: {
                type: 'doughnut',
                data: {
                    labels: ['unchanged', 'edited', 'rejected'],
                    datasets: [{ data: [accept, edit, reject], backgroundColor: [p.accept, p.edit, p.reject], borderColor: p.grid }],
                },
                // The panel draws the key itself (text that wraps in a narrow sidebar).
                options: { ...base(p), plugins: { legend: { display: false } } },
            },
        });
    }
    if (view.byArtifactType.labels.length > 0) {
        const t = view.byArtifactType;
        specs.push({
            key: 'artifactTypes',
            title: 'By artifact type',
            summary: t.labels
                .map((l, i) => `${l}: kept ${percent(t.keptRate[i])} (${t.accept[i]} unchanged, ${t.edit[i]} edited), ${t.reject[i]} rejected`)
                .join('; '),
            config: {
                type: 'bar',
                data: {
                    // Two-line ticks: the type, and the share of its outputs kept.
                    labels: t.labels.map((l, i) => [l, `kept ${percent(t.keptRate[i])}`]),
                    datasets: [
                        { label: 'unchanged', data: t.accept, backgroundColor: p.accept },
                        { label: 'edited', data: t.edit, backgroundColor: p.edit },
                        { label: 'rejected', data: t.reject, backgroundColor: p.reject },
                    ],
                },
                options: base(p, axes(p, { x: { stacked: true, ticks: { color: p.foreground }, grid: { color: p.grid } }, y: { stacked: true, beginAtZero: true, ticks: { color: p.foreground, precision: 0 }, grid: { color: p.grid } } })),
            },
        });
    }
    if (view.daily.labels.length > 0) {
        const d = view.daily;
        specs.push({
            key: 'daily',
            title: 'Kept, unchanged and edit distance over time',
            summary: `${d.labels.length} days from ${d.labels[0]} to ${d.labels[d.labels.length - 1]}`,
            config: {
                type: 'line',
                data: {
                    labels: d.labels,
                    datasets: [
                        { label: 'kept (%)', data: d.keptRate.map(pct), borderColor: p.series[0], backgroundColor: p.series[0], yAxisID: 'y', spanGaps: true },
                        { label: 'unchanged (%)', data: d.unchangedRate.map(pct), borderColor: p.accept, backgroundColor: p.accept, yAxisID: 'y', spanGaps: true },
                        { label: 'mean edit distance', data: d.meanEditDistance, borderColor: p.series[1] ?? p.series[0], backgroundColor: p.series[1] ?? p.series[0], yAxisID: 'y1', spanGaps: true },
                    ],
                },
                options: base(p, {
                    x: { ticks: { color: p.foreground }, grid: { color: p.grid } },
                    y: { beginAtZero: true, max: 100, position: 'left', ticks: { color: p.foreground }, grid: { color: p.grid }, title: { display: true, text: '%', color: p.foreground } },
                    y1: { beginAtZero: true, position: 'right', ticks: { color: p.foreground }, grid: { drawOnChartArea: false }, title: { display: true, text: 'chars', color: p.foreground } },
                }),
            },
        });
    }
    if (view.rewardHistogram.counts.some((c) => c > 0)) {
        const h = view.rewardHistogram;
        specs.push({
            key: 'rewards',
            title: 'Reward histogram',
            summary: h.labels.map((l, i) => `${l}: ${h.counts[i]}`).join('; '),
            config: {
                type: 'bar',
                data: { labels: h.labels, datasets: [{ label: 'events', data: h.counts, backgroundColor: p.series[1] ?? p.series[0] }] },
                options: { ...base(p, axes(p)), plugins: { legend: { display: false } } },
            },
        });
    }
    const curves = view.runs.filter((r) => r.curve.steps.length > 0).slice(0, p.series.length);
    if (curves.length > 0) {
        specs.push({
            key: 'curves',
            title: 'Validation loss of recent runs',
            summary: curves.map((r) => `${r.name} (${r.method}, ${r.status}${r.promoted ? ', promoted' : ''})`).join('; '),
            config: {
                type: 'line',
                data: {
                    datasets: curves.map((r, i) => ({
                        label: runLegend(r),
                        data: r.curve.steps.map((step, j) => ({ x: step, y: r.curve.valLoss[j] })).filter((pt) => pt.y !== null),
                        borderColor: p.series[i],
                        backgroundColor: p.series[i],
                        borderWidth: r.promoted ? 3 : 1.5,
                        borderDash: r.promoted ? [] : [4, 3],
                    })),
                },
                options: base(p, {
                    x: { type: 'linear', ticks: { color: p.foreground }, grid: { color: p.grid }, title: { display: true, text: 'step', color: p.foreground } },
                    y: { ticks: { color: p.foreground }, grid: { color: p.grid }, title: { display: true, text: 'val loss', color: p.foreground } },
                }),
            },
        });
    }
    return specs;
}
