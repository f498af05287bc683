/** The stats webview: receives StatsViews from the extension and draws them (bundled separately). */
import {
    ArcElement,
    BarController,
    BarElement,
    CategoryScale,
    Chart,
    DoughnutController,
    Legend,
    LinearScale,
    LineController,
    LineElement,
    PointElement,
    Tooltip,
} from 'chart.js';
import type { FromWebview, ToWebview } from '../common/messages';
import type { StatsView } from '../common/statsModel';
import { chartPalette, chartSpecs, Palette } from './charts';
import { refreshTimes, renderStats, renderUnavailable } from './render';

declare function acquireVsCodeApi(): { postMessage(message: FromWebview): void };

Chart.register(ArcElement, BarController, BarElement, CategoryScale, DoughnutController, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLElement;
const handlers = { train: () => vscode.postMessage({ type: 'train' }), refresh: () => vscode.postMessage({ type: 'refresh' }) };
type AnyChart = { destroy(): void };
let charts: AnyChart[] = [];
let last: StatsView | undefined;

function cssVar(name: string, fallback: string): string {
    return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** What the panel is drawn on: the side bar's background (a webview view is transparent over it). */
function background(): string {
    const dark = document.body.classList.contains('vscode-dark') || document.body.classList.contains('vscode-high-contrast');
    return cssVar('--vscode-sideBar-background', cssVar('--vscode-editor-background', dark ? '#1e1e1e' : '#ffffff'));
}

/** The theme's chart colours, adjusted to 3:1 contrast; also set as CSS variables for the HTML key. */
function palette(): Palette {
    const p = chartPalette((name) => cssVar(name, ''), background());
    for (const kind of ['accept', 'edit', 'reject'] as const) {
        document.body.style.setProperty(`--editloop-${kind}`, p[kind]);
    }
    return p;
}

function draw(view: StatsView): void {
    last = view;
    charts.forEach((c) => c.destroy());
    charts = [];
    const specs = chartSpecs(view, palette());
    const canvases = renderStats(root, view, specs, handlers, Date.now());
    for (const spec of specs) {
        const canvas = canvases.get(spec.key);
        if (canvas) {
            charts.push(new Chart(canvas, spec.config as ConstructorParameters<typeof Chart>[1]));
        }
    }
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
    const message = event.data;
    if (message?.type === 'stats') {
        draw(message.view);
    } else if (message?.type === 'unavailable') {
        charts.forEach((c) => c.destroy());
        charts = [];
        renderUnavailable(root, String(message.message), handlers);
    }
});

// VS Code swaps the body's theme class (vscode-light, vscode-dark, vscode-high-contrast): redraw in the new colours.
new MutationObserver(() => last && draw(last)).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// "3 min ago" stays true while the panel is open.
setInterval(() => refreshTimes(root, Date.now()), 30_000);

vscode.postMessage({ type: 'ready' });
