// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import { toStatsView } from '../src/common/statsModel';
import { chartSpecs, Palette } from '../src/webview/charts';
import { el } from '../src/webview/dom';
import { renderStats, renderUnavailable } from '../src/webview/render';
import { HOSTILE, sampleStats } from './fixtures';

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
        expect(text).toContain(HOSTILE[1]);
        expect(text).toContain(HOSTILE[2]);
        expect(root.querySelector('canvas.chart-artifactTypes, .chart-artifactTypes canvas')?.getAttribute('aria-label')).toContain(HOSTILE[0]);
    });

    it('shows figures, one canvas per chart, the runs table with the promoted model, and a working Train button', () => {
        const { root, calls, handlers } = setup();
        const view = toStatsView(sampleStats());
        const specs = chartSpecs(view, palette);
        const canvases = renderStats(root, view, specs, handlers);
        expect([...canvases.keys()]).toEqual(['actions', 'artifactTypes', 'daily', 'rewards', 'curves']);
        expect(root.querySelectorAll('canvas').length).toBe(5);
        expect(root.querySelector('.figures')?.textContent).toContain('50%');
        const rows = root.querySelectorAll('table.runs tbody tr');
        expect(rows.length).toBe(2);
        expect(rows[0].classList.contains('promoted')).toBe(true);
        expect(rows[0].textContent).toContain('★ promoted');
        const train = [...root.querySelectorAll('button')].find((b) => b.textContent === 'Train now')!;
        train.click();
        expect(calls).toEqual(['train']);
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
        const daily = specs.find((s) => s.key === 'daily')!.config as any;
        expect(daily.data.datasets[0].data).toEqual([40, 57]);
        const curves = specs.find((s) => s.key === 'curves')!.config as any;
        expect(curves.data.datasets).toHaveLength(1);
        expect(curves.data.datasets[0].borderWidth).toBe(3);
        expect(curves.data.datasets[0].data).toEqual([{ x: 10, y: 0.9 }, { x: 20, y: 0.6 }]);
        expect(chartSpecs(toStatsView({}), palette)).toEqual([]);
    });
});
