/**
 * Chart.js configurations for a StatsView, with the theme's colours. Pure (no DOM, no Chart.js
 * import): tests check what each chart shows; main.ts hands the configs to Chart.js.
 */
import type { StatsView } from '../common/statsModel';

export interface Palette {
    foreground: string;
    grid: string;
    accept: string;
    edit: string;
    reject: string;
    series: string[];
    fontFamily: string;
}

export interface ChartSpec {
    key: string;
    title: string;
    /** A sentence for screen readers (the canvas itself is opaque). */
    summary: string;
    config: { type: 'bar' | 'line' | 'doughnut'; data: unknown; options: unknown };
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
            summary: `${accept} accepted, ${edit} edited, ${reject} rejected`,
            config: {
                type: 'doughnut',
                data: {
                    labels: ['accepted', 'edited', 'rejected'],
                    datasets: [{ data: [accept, edit, reject], backgroundColor: [p.accept, p.edit, p.reject], borderColor: p.grid }],
                },
                options: base(p),
            },
        });
    }
    if (view.byArtifactType.labels.length > 0) {
        const t = view.byArtifactType;
        specs.push({
            key: 'artifactTypes',
            title: 'By artifact type',
            summary: t.labels.map((l, i) => `${l}: ${t.accept[i]} accepted, ${t.edit[i]} edited, ${t.reject[i]} rejected`).join('; '),
            config: {
                type: 'bar',
                data: {
                    labels: t.labels,
                    datasets: [
                        { label: 'accepted', data: t.accept, backgroundColor: p.accept },
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
            title: 'Accept rate and edit distance over time',
            summary: `${d.labels.length} days from ${d.labels[0]} to ${d.labels[d.labels.length - 1]}`,
            config: {
                type: 'line',
                data: {
                    labels: d.labels,
                    datasets: [
                        { label: 'accept rate (%)', data: d.acceptRate.map((r) => (r === null ? null : Math.round(r * 1000) / 10)), borderColor: p.accept, backgroundColor: p.accept, yAxisID: 'y', spanGaps: true },
                        { label: 'mean edit distance', data: d.meanEditDistance, borderColor: p.series[0], backgroundColor: p.series[0], yAxisID: 'y1', spanGaps: true },
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
            summary: curves.map((r) => `run ${r.id} (${r.method}, ${r.status}${r.promoted ? ', promoted' : ''})`).join('; '),
            config: {
                type: 'line',
                data: {
                    datasets: curves.map((r, i) => ({
                        label: `${r.id} ${r.method}${r.promoted ? ' ★' : ''}`,
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
