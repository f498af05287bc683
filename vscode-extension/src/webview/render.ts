/**
 * The panel's DOM for a StatsView: summary figures, chart slots, the runs table, the empty state.
 * Built with dom.el only (text nodes, allow-listed attributes): stored strings render inertly.
 */
import { percent, RunView, StatsView } from '../common/statsModel';
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

function runsTable(runs: RunView[]): HTMLElement {
    const head = el('tr', {}, ...['Run', 'Method', 'Status', 'Model', 'Metrics', 'Finished'].map((c) => el('th', { scope: 'col' }, c)));
    const rows = runs.map((r) =>
        el(
            'tr',
            { class: r.promoted ? 'promoted' : '' },
            el('td', {}, r.id),
            el('td', {}, r.method),
            el('td', { class: `status status-${r.status.replace(/[^a-z]/g, '')}` }, r.status),
            el('td', {}, r.promoted ? '★ promoted' : ''),
            el('td', {}, r.summary || '–'),
            el('td', {}, r.finishedAt || r.startedAt || '–'),
        ),
    );
    return el('table', { class: 'runs' }, el('thead', {}, head), el('tbody', {}, ...rows));
}

/** Renders the view; returns the canvas for each chart spec, keyed by spec.key. */
export function renderStats(root: HTMLElement, view: StatsView, specs: ChartSpec[], h: Handlers): Map<string, HTMLCanvasElement> {
    if (view.empty) {
        renderEmpty(root, h);
        return new Map();
    }
    const canvases = new Map<string, HTMLCanvasElement>();
    const figures = el(
        'div',
        { class: 'figures' },
        figure('events', String(view.total)),
        figure('accept rate', percent(view.acceptRate)),
        figure('mean similarity', fmt(view.meanSimilarity)),
        figure('mean reward', fmt(view.meanReward)),
        figure('pending', String(view.pending)),
        view.embeddings ? figure('embeddings', view.embeddings) : null,
    );
    const charts = specs.map((spec) => {
        const canvas = el('canvas', { role: 'img', 'aria-label': `${spec.title}: ${spec.summary}` }) as HTMLCanvasElement;
        canvases.set(spec.key, canvas);
        return el('section', { class: `chart chart-${spec.key}` }, el('h3', {}, spec.title), el('div', { class: 'canvas-box' }, canvas));
    });
    const runs =
        view.runs.length > 0
            ? el('section', { class: 'runs-section' }, el('h3', {}, 'Training runs'), runsTable(view.runs))
            : el('section', { class: 'runs-section' }, el('h3', {}, 'Training runs'), el('p', { class: 'muted' }, 'No training run yet.'));
    root.replaceChildren(toolbar(h), figures, ...charts, runs);
    return canvases;
}
