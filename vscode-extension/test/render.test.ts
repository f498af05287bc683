// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { toStatsView } from '../src/common/statsModel';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chartPalette, chartSpecs, Palette } from '../src/webview/charts';
import { contrast, deltaE, parseColor } from '../src/webview/colors';
import { el } from '../src/webview/dom';
import { refreshTimes, renderStats, renderUnavailable } from '../src/webview/render';
import { HOSTILE, sampleStats } from './fixtures';

const NOW = Date.parse('2025-01-02T11:03:30Z');
const palette: Palette = { foreground: 'fg', grid: 'grid', accept: 'green', edit: 'yellow', reject: 'red', series: ['blue', 'purple', 'orange'], fontFamily: 'f' };

function setup() {
    const root = document.createElement('main');
    document.body.replaceChildren(root);
    const calls: string[] = [];
    const handlers = { train: () => calls.push('train'), refresh: () => calls.push('refresh') };
    return { root, calls, handlers };
}

describe('renderStats', () => {
    it('renders stored strings as inert text', () => {
        const { root, handlers } = setup();
        const view = toStatsView(sampleStats());
        renderStats(root, view, chartSpecs(view, palette), handlers);
        expect(root.querySelectorAll('script, img, style, iframe, a').length).toBe(0);
        for (const node of root.querySelectorAll('*')) {
            for (const attr of node.getAttributeNames()) {
                expect(attr.startsWith('on'), attr).toBe(false);
                expect(['href', 'src', 'style']).not.toContain(attr);
            }
        }
        const text = root.textContent ?? '';
        expect(text).toContain(HOSTILE[1].slice(0, 23)); // a run id of an unknown shape: cut, whole in the title
        expect(root.querySelector('li.run')?.getAttribute('title')).toBe(HOSTILE[1]);
        expect(text).toContain(HOSTILE[2]);
        expect(text).toContain(`at least 8 needed ${HOSTILE[0]}`); // a failure's reason, as text
        expect(root.querySelector('canvas.chart-artifactTypes, .chart-artifactTypes canvas')?.getAttribute('aria-label')).toContain(HOSTILE[0]);
    });

    it('shows figures, one canvas per chart, the runs with the promoted model, and a working Train button', () => {
        const { root, calls, handlers } = setup();
        const view = toStatsView(sampleStats());
        const specs = chartSpecs(view, palette);
        const canvases = renderStats(root, view, specs, handlers, NOW);
        expect([...canvases.keys()]).toEqual(['actions', 'artifactTypes', 'daily', 'rewards', 'curves']);
        expect(root.querySelectorAll('canvas').length).toBe(5);
        const rows = root.querySelectorAll('ol.runs li.run');
        expect(rows.length).toBe(2);
        expect(rows[0].classList.contains('promoted')).toBe(true);
        expect(rows[0].textContent).toContain('★ promoted');
        // Outcomes, then the runs, then the longer series.
        const sections = [...root.children].map((c) => c.className);
        expect(sections.indexOf('runs-section')).toBe(sections.indexOf('chart chart-actions') + 1);
        const train = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Train now')!;
        train.click();
        expect(calls).toEqual(['train']);
    });

    it('names the two rates apart: "kept 83% · unchanged 50%", explained in a title', () => {
        const { root, handlers } = setup();
        const view = toStatsView(sampleStats());
        renderStats(root, view, chartSpecs(view, palette), handlers, NOW);
        const rates = root.querySelector('.figure.rates')!;
        expect(rates.querySelector('.value')?.textContent).toBe('kept 83% · unchanged 50%');
        expect(rates.querySelector('.label')?.textContent).toBe('of 12 AI outputs: kept with or without your edits · unchanged as written');
        expect(rates.getAttribute('title')).toContain('kept exactly as written');
        expect(root.textContent).not.toMatch(/accept rate/i);
        // The Outcomes key is text (it wraps in a narrow sidebar), one swatch per outcome.
        const key = [...root.querySelectorAll('.chart-actions .key li')].map((li) => li.textContent);
        expect(key).toEqual(['unchanged 6', 'edited 4', 'rejected 2']);
        expect(root.querySelectorAll('.chart-actions .swatch-accept, .chart-actions .swatch-edit, .chart-actions .swatch-reject').length).toBe(3);
    });

    it('lays runs out as cards: readable names, relative times with the ISO time as title, a failed run\'s reason', () => {
        const { root, handlers } = setup();
        const view = toStatsView(sampleStats());
        renderStats(root, view, chartSpecs(view, palette), handlers, NOW);
        expect(root.querySelector('table')).toBeNull();
        const failed = root.querySelectorAll('li.run')[1];
        expect(failed.classList.contains('status-failed')).toBe(true);
        expect(failed.querySelector('.run-name')?.textContent).toBe('run of 01-02 11:00');
        expect(failed.querySelector('.run-suffix')?.textContent).toBe('…abc123');
        expect([...failed.querySelectorAll('.run-meta .chip')].map((c) => c.textContent)).toEqual(['dpo', 'failed', 'finished 3 min ago']);
        const time = failed.querySelector('time')!;
        expect(time.getAttribute('datetime')).toBe('2025-01-02T11:00:04.250Z');
        expect(time.getAttribute('title')).toBe('2025-01-02T11:00:04.250Z');
        expect(failed.querySelector('.run-reason')?.textContent).toContain('not enough preference pairs');
        // No raw ISO timestamp as visible text anywhere.
        expect(root.textContent).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:/);
        // A succeeded run's reason is in its title, not under it.
        const ok = toStatsView({ total: 1, counts: { edit: 1 }, recentRuns: [{ id: 'r', status: 'succeeded', reason: 'trained on 9 rows', finishedAt: '2025-01-02T10:00:00Z' }] });
        renderStats(root, ok, [], handlers, NOW);
        expect(root.querySelector('.run-reason')).toBeNull();
        expect(root.querySelector('li.run')?.getAttribute('title')).toBe('r: trained on 9 rows');
        expect(root.querySelector('li.run time')?.textContent).toBe('1 h ago');
    });

    it('keeps relative times current', () => {
        const { root, handlers } = setup();
        const view = toStatsView(sampleStats());
        renderStats(root, view, [], handlers, NOW);
        refreshTimes(root, NOW + 2 * 3600_000);
        expect(root.querySelectorAll('li.run time')[1].textContent).toBe('2 h ago');
    });

    it('explains how to start when nothing was captured', () => {
        const { root, calls, handlers } = setup();
        const canvases = renderStats(root, toStatsView({}), [], handlers);
        expect(canvases.size).toBe(0);
        expect(root.textContent).toContain('No feedback captured yet');
        expect(root.textContent).toContain('Mark Selection as AI Output');
        [...root.querySelectorAll('button')].find((b) => b.textContent === 'Train now')!.click();
        expect(calls).toEqual(['train']);
    });

    it('shows server errors as text', () => {
        const { root, calls, handlers } = setup();
        renderUnavailable(root, HOSTILE[0], handlers);
        expect(root.querySelector('script')).toBeNull();
        expect(root.textContent).toContain(HOSTILE[0]);
        root.querySelector('button')!.click();
        expect(calls).toEqual(['refresh']);
    });
});

describe('el', () => {
    it('refuses event-handler and URL attributes', () => {
        expect(() => el('div', { onclick: 'x' })).toThrow();
        expect(() => el('a', { href: 'javascript:alert(1)' })).toThrow();
        expect(el('p', {}, '<b>x</b>', 3).innerHTML).toBe('&lt;b&gt;x&lt;/b&gt;3');
    });
});

describe('chartSpecs', () => {
    it('colours outcomes with the theme palette and marks the promoted run', () => {
        const specs = chartSpecs(toStatsView(sampleStats()), palette);
        const actions = specs.find((s) => s.key === 'actions')!.config as any;
        expect(actions.data.datasets[0].data).toEqual([6, 4, 2]);
        expect(actions.data.datasets[0].backgroundColor).toEqual(['green', 'yellow', 'red']);
        expect(actions.data.labels).toEqual(['unchanged', 'edited', 'rejected']);
        expect(specs[0].summary).toBe('6 kept unchanged, 4 kept after edits, 2 rejected');
        const types = specs.find((s) => s.key === 'artifactTypes')!;
        expect((types.config as any).data.labels[0]).toEqual(['mermaid-erd', 'kept 88%']);
        expect(types.summary).toContain('mermaid-erd: kept 88% (4 unchanged, 3 edited), 1 rejected');
        const daily = specs.find((s) => s.key === 'daily')!.config as any;
        expect(daily.data.datasets.map((d: any) => d.label)).toEqual(['kept (%)', 'unchanged (%)', 'mean edit distance']);
        expect(daily.data.datasets[0].data).toEqual([80, 85.7]);
        expect(daily.data.datasets[1].data).toEqual([40, 57]);
        const curves = specs.find((s) => s.key === 'curves')!.config as any;
        expect(curves.data.datasets).toHaveLength(1);
        expect(curves.data.datasets[0].label).toBe(`run ${HOSTILE[1].slice(0, 23)}… ${HOSTILE[2]} ★`);
        expect(curves.data.datasets[0].borderWidth).toBe(3);
        expect(curves.data.datasets[0].data).toEqual([{ x: 10, y: 0.9 }, { x: 20, y: 0.6 }]);
        expect(chartSpecs(toStatsView({}), palette)).toEqual([]);
    });
});

/** The charts.* colours of VS Code's default themes (and their side bar backgrounds). */
const THEMES = {
    // Light Modern / Light 2026 family: charts.green #388a34, charts.orange #d18616, charts.red #e51400.
    light: { background: '#f8f8f8', vars: { '--vscode-charts-green': '#388a34', '--vscode-charts-orange': '#d18616', '--vscode-charts-red': '#e51400' } },
    // Dark Modern / Dark 2026 family: charts.green #89d185, charts.orange #d18616, charts.red #f14c4c.
    dark: { background: '#181818', vars: { '--vscode-charts-green': '#89d185', '--vscode-charts-orange': '#d18616', '--vscode-charts-red': '#f14c4c' } },
} as const;

describe('chartPalette', () => {
    for (const [name, theme] of Object.entries(THEMES)) {
        it(`gives unchanged, edited and rejected 3:1 contrast and distinct hues in the ${name} theme`, () => {
            const vars = theme.vars as Record<string, string>;
            const p = chartPalette((v) => vars[v] ?? '', theme.background);
            const bg = parseColor(theme.background)!;
            for (const kind of ['accept', 'edit', 'reject'] as const) {
                expect(contrast(parseColor(p[kind])!, bg), `${name} ${kind} ${p[kind]}`).toBeGreaterThanOrEqual(3);
            }
            expect(deltaE(parseColor(p.accept)!, parseColor(p.edit)!)).toBeGreaterThan(20);
            expect(deltaE(parseColor(p.edit)!, parseColor(p.reject)!)).toBeGreaterThan(20);
        });
    }

    it('keeps a theme colour that already has the contrast, and falls back when a variable is unset', () => {
        const p = chartPalette((v) => (v === '--vscode-charts-green' ? '#388a34' : ''), '#ffffff');
        expect(p.accept).toBe('#388a34');
        expect(contrast(parseColor(p.edit)!, parseColor('#ffffff')!)).toBeGreaterThanOrEqual(3); // #d18616 darkened
        expect(p.edit).not.toBe('#d18616');
    });
});

describe('the panel stylesheet', () => {
    const css = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../src/webview/style.css'), 'utf8');

    it('never breaks inside a word: no overflow-wrap:anywhere or word-break:break-all, units kept whole', () => {
        expect(css).not.toMatch(/overflow-wrap:\s*anywhere|word-break:\s*break-(all|word)/);
        expect(css).toMatch(/body\s*{[^}]*overflow-wrap:\s*break-word/);
        for (const unit of ['.chip', '.run-name', '.rate', '.key-item']) {
            const rule = [...css.matchAll(/([^{}]+){([^}]*)}/g)].find(([, sel, body]) => sel.split(',').map((x) => x.trim()).includes(unit) && /white-space:\s*nowrap/.test(body));
            expect(rule, unit).toBeDefined();
        }
    });

    it('colours outcomes with the adjusted theme colours', () => {
        for (const kind of ['accept', 'edit', 'reject']) {
            expect(css).toContain(`.swatch-${kind} { background: var(--editloop-${kind},`);
        }
    });
});
