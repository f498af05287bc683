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
import { chartSpecs, Palette } from './charts';
import { renderStats, renderUnavailable } from './render';

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

function palette(): Palette {
    return {
        foreground: cssVar('--vscode-foreground', '#888'),
        grid: cssVar('--vscode-charts-lines', 'rgba(128,128,128,0.3)'),
        accept: cssVar('--vscode-charts-green', '#388a34'),
        edit: cssVar('--vscode-charts-yellow', '#bf8803'),
        reject: cssVar('--vscode-charts-red', '#e51400'),
        series: ['--vscode-charts-blue', '--vscode-charts-purple', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-red'].map((v) =>
            cssVar(v, '#1a85ff'),
        ),
        fontFamily: cssVar('--vscode-font-family', 'sans-serif'),
    };
}

function draw(view: StatsView): void {
    last = view;
    charts.forEach((c) => c.destroy());
    charts = [];
    const specs = chartSpecs(view, palette());
    const canvases = renderStats(root, view, specs, handlers);
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

vscode.postMessage({ type: 'ready' });
