/**
 * The panel's DOM for a StatsView: summary figures, chart slots, the training runs, the empty state.
 * Laid out for a ~300 px sidebar: figures in a grid, runs as cards whose parts wrap as units (never
 * inside a word), times relative ("3 min ago") with the ISO timestamp in a title attribute.
 * Built with dom.el only (text nodes, allow-listed attributes): stored strings render inertly.
 */
import { percent, RATES_EXPLAINED, RunView, StatsView } from '../common/statsModel';
import { relativeTime } from '../common/time';
import type { ChartSpec } from './charts';
import { el } from './dom';

export interface Handlers {
    train(): void;
    refresh(): void;
}

function fmt(n: number | null, digits = 2): string {
    return n === null ? '–' : n.toFixed(digits);
}

function toolbar(h: Handlers): HTMLElement {
    const train = el('button', { type: 'button', class: 'primary' }, 'Train now');
    train.addEventListener('click', () => h.train());
    const refresh = el('button', { type: 'button', class: 'secondary' }, 'Refresh');
    refresh.addEventListener('click', () => h.refresh());
    return el('div', { class: 'toolbar' }, train, refresh);
}

export function renderEmpty(root: HTMLElement, h: Handlers): void {
    root.replaceChildren(
        el(
            'section',
            { class: 'empty' },
            el('h2', {}, 'No feedback captured yet'),
            el('p', {}, 'Editloop learns from how you fix AI-generated code and diagrams. To start:'),
            el(
                'ol',
                {},
                el('li', {}, 'Run “Editloop: Generate” to ask your model for code or a diagram at the cursor, or'),
                el('li', {}, 'select AI output you pasted from a chat and run “Editloop: Mark Selection as AI Output”.'),
                el('li', {}, 'Edit it as you normally would, then Accept or Reject it (CodeLens above the region), or just keep working: outcomes are recorded after a while.'),
                el('li', {}, 'Once enough fixes are captured, press “Train now” to fine-tune a model on them.'),
            ),
        ),
        toolbar(h),
    );
}

export function renderUnavailable(root: HTMLElement, message: string, h: Handlers): void {
    const refresh = el('button', { type: 'button', class: 'secondary' }, 'Retry');
    refresh.addEventListener('click', () => h.refresh());
    root.replaceChildren(el('section', { class: 'empty', role: 'status' }, el('h2', {}, 'Stats unavailable'), el('p', {}, message), refresh));
}

function figure(label: string, value: string): HTMLElement {
    return el('div', { class: 'figure' }, el('div', { class: 'value' }, value), el('div', { class: 'label' }, label));
}

/** "kept 98% · unchanged 0%" across the grid, each rate named, what they mean underneath. */
function rates(view: StatsView): HTMLElement {
    const n = view.counts.accept + view.counts.edit + view.counts.reject;
    return el(
        'div',
        { class: 'figure rates', title: RATES_EXPLAINED },
        el(
            'div',
            { class: 'value' },
            el('span', { class: 'rate rate-kept' }, `kept ${percent(view.keptRate)}`),
            ' · ',
            el('span', { class: 'rate rate-unchanged' }, `unchanged ${percent(view.unchangedRate)}`),
        ),
        el('div', { class: 'label' }, `of ${n} AI output${n === 1 ? '' : 's'}: kept with or without your edits · unchanged as written`),
    );
}

/** "finished <time>3 min ago</time>": the ISO timestamp is the time's datetime and title. */
export function timeElement(prefix: string, iso: string, now: number): HTMLElement {
    return el('span', { class: 'chip when' }, `${prefix} `, el('time', { datetime: iso, title: iso }, relativeTime(iso, now)));
}

/** Re-renders every relative time under `root` for `now` (the panel stays open for hours). */
export function refreshTimes(root: ParentNode, now: number): void {
    for (const t of root.querySelectorAll('time[datetime]')) {
        t.textContent = relativeTime(t.getAttribute('datetime') ?? '', now);
    }
}

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

function runCard(r: RunView, now: number): HTMLElement {
    const status = r.status.replace(/[^a-z]/g, '');
    const when = r.finishedAt && ENDED.has(r.status) ? timeElement('finished', r.finishedAt, now) : r.startedAt ? timeElement('started', r.startedAt, now) : null;
    const metrics = r.summary ? r.summary.split(' · ') : [];
    const showReason = r.reason && r.status !== 'succeeded';
    return el(
        'li',
        { class: `run status-${status}${r.promoted ? ' promoted' : ''}`, title: r.reason ? `${r.id}: ${r.reason}` : r.id },
        el(
            'div',
            { class: 'run-head' },
            el('span', { class: 'run-name' }, r.name),
            r.suffix ? el('span', { class: 'run-suffix muted' }, r.suffix) : null,
            r.promoted ? el('span', { class: 'badge' }, '★ promoted') : null,
        ),
        el('div', { class: 'run-meta' }, el('span', { class: 'chip method' }, r.method), el('span', { class: 'chip status' }, r.status), when),
        metrics.length ? el('div', { class: 'run-metrics' }, ...metrics.map((m) => el('span', { class: 'chip metric' }, m))) : null,
        showReason ? el('p', { class: 'run-reason' }, r.reason) : null,
    );
}

function runsList(runs: RunView[], now: number): HTMLElement {
    return el('ol', { class: 'runs', 'aria-label': 'Training runs, newest first' }, ...runs.map((r) => runCard(r, now)));
}

/** The Outcomes chart's key as text: swatches (coloured by main.ts) with counts, wrapping as units. */
function outcomeKey(view: StatsView): HTMLElement {
    const item = (kind: string, label: string, n: number) =>
        el('li', { class: 'key-item' }, el('span', { class: `swatch swatch-${kind}`, 'aria-hidden': 'true' }), `${label} ${n}`);
    return el(
        'ul',
        { class: 'key' },
        item('accept', 'unchanged', view.counts.accept),
        item('edit', 'edited', view.counts.edit),
        item('reject', 'rejected', view.counts.reject),
    );
}

/** Renders the view; returns the canvas for each chart spec, keyed by spec.key. */
export function renderStats(root: HTMLElement, view: StatsView, specs: ChartSpec[], h: Handlers, now: number = Date.now()): Map<string, HTMLCanvasElement> {
    if (view.empty) {
        renderEmpty(root, h);
        return new Map();
    }
    const canvases = new Map<string, HTMLCanvasElement>();
    const figures = el(
        'div',
        { class: 'figures' },
        rates(view),
        figure('events', String(view.total)),
        figure('pending', String(view.pending)),
        figure('mean similarity', fmt(view.meanSimilarity)),
        figure('mean reward', fmt(view.meanReward)),
    );
    const embeddings = view.embeddings
        ? el('p', { class: 'muted note' }, view.embeddings === 'on' ? 'Similarity includes sentence embeddings.' : 'Embeddings off: similarity is character-based.')
        : null;
    const charts = specs.map((spec) => {
        const canvas = el('canvas', { role: 'img', 'aria-label': `${spec.title}: ${spec.summary}` }) as HTMLCanvasElement;
        canvases.set(spec.key, canvas);
        return el(
            'section',
            { class: `chart chart-${spec.key}` },
            el('h3', {}, spec.title),
            spec.key === 'actions' ? outcomeKey(view) : null,
            el('div', { class: 'canvas-box' }, canvas),
        );
    });
    const runs = el(
        'section',
        { class: 'runs-section' },
        el('h3', {}, 'Training runs'),
        view.runs.length > 0 ? runsList(view.runs, now) : el('p', { class: 'muted' }, 'No training run yet.'),
    );
    // The outcomes first, then the runs (a few short cards), then the longer series.
    const outcomes = specs[0]?.key === 'actions' ? charts.slice(0, 1) : [];
    const parts: HTMLElement[] = [toolbar(h), figures, ...(embeddings ? [embeddings] : []), ...outcomes, runs, ...charts.slice(outcomes.length)];
    root.replaceChildren(...parts);
    return canvases;
}
