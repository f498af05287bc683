/**
 * Two status items: a LanguageStatusItem with the server's state (starting, running, error), and a
 * status bar item with the pending regions and the share of AI outputs kept, from `editloop.stats {}`.
 */
import * as vscode from 'vscode';
import { debounce } from '../common/debounce';
import { describeGeneration, generationTarget } from '../common/endpoint';
import { ServerState } from '../common/server';
import { RESTRICTED_SETTINGS, SECTION, Settings } from '../common/settings';
import { keptWording, percent, RATES_EXPLAINED, StatusFigures, statusText } from '../common/statsModel';

/** What the tooltip says besides the stats: the settings in use and whether the workspace is trusted. */
export interface StatusContext {
    settings: Settings;
    trusted: boolean;
}

/** The item's text: "$(feedback) 2 pending · kept 98%" (the tooltip adds "unchanged"). */
export function statsItemText(stats: StatusFigures): string {
    return `$(feedback) ${stats.pending} pending · kept ${percent(stats.keptRate)}`;
}

/**
 * The stats item's tooltip (plain text, one fact a line): pending regions, the kept and unchanged
 * rates (each explained), where generation sends text (this machine or another host), the data
 * folder, and Restricted Mode.
 */
export function statsTooltip(stats: StatusFigures, context: StatusContext): string {
    const { pending, total } = stats;
    const dataDir = stats.dataDir ?? (context.settings.dataDir || undefined);
    const outcomes =
        total > 0
            ? [`Of ${total} AI output${total === 1 ? '' : 's'} with an outcome: ${keptWording(stats.keptRate, stats.unchangedRate)}.`, capitalize(RATES_EXPLAINED)]
            : ['No outcome recorded yet.'];
    const lines = [
        `Editloop: ${pending} AI region${pending === 1 ? '' : 's'} awaiting an outcome.`,
        ...outcomes,
        describeGeneration(generationTarget(context.settings)),
        `Data folder: ${dataDir ?? "the server's default (EDITLOOP_HOME or the user data folder)"}`,
    ];
    if (!context.trusted) {
        const names = RESTRICTED_SETTINGS.map((n) => `${SECTION}.${n}`).join(', ');
        lines.push(`Restricted Mode: this workspace's values of ${names} are ignored; yours apply.`);
    }
    lines.push('Click for stats.');
    return lines.join('\n');
}

function capitalize(s: string): string {
    return s.charAt(0).toUpperCase() + s.slice(1);
}

export class ServerStatusItem implements vscode.Disposable {
    private readonly item: vscode.LanguageStatusItem;

    constructor() {
        this.item = vscode.languages.createLanguageStatusItem('editloop.server', [{ scheme: 'file' }, { scheme: 'untitled' }]);
        this.item.name = 'Editloop';
        this.show({ kind: 'stopped', detail: 'Not started' });
    }

    show(state: ServerState): void {
        this.item.busy = state.kind === 'starting';
        this.item.severity = state.kind === 'error' ? vscode.LanguageStatusSeverity.Error : vscode.LanguageStatusSeverity.Information;
        this.item.text = state.kind === 'running' ? 'Editloop' : `Editloop: ${state.kind}`;
        this.item.detail = state.detail;
        this.item.command =
            state.kind === 'error'
                ? { title: 'Show Logs', command: 'editloop.showLogs' }
                : { title: 'Restart', command: 'editloop.restart' };
    }

    dispose(): void {
        this.item.dispose();
    }
}

export class StatsStatusBar implements vscode.Disposable {
    private readonly item: vscode.StatusBarItem;
    private readonly refreshSoon = debounce(() => void this.refresh(), 750);

    constructor(
        private readonly fetchStats: () => Promise<unknown>,
        private readonly context: () => StatusContext,
    ) {
        this.item = vscode.window.createStatusBarItem('editloop.stats', vscode.StatusBarAlignment.Right, 100);
        this.item.name = 'Editloop';
        this.item.command = 'editloop.stats';
    }

    /** Debounced: region notifications come in bursts while the user types. */
    scheduleRefresh(): void {
        this.refreshSoon.schedule();
    }

    async refresh(): Promise<void> {
        try {
            const stats = statusText(await this.fetchStats());
            this.item.text = statsItemText(stats);
            this.item.tooltip = statsTooltip(stats, this.context());
            this.item.show();
        } catch {
            this.item.hide();
        }
    }

    hide(): void {
        this.item.hide();
    }

    dispose(): void {
        this.refreshSoon.cancel();
        this.item.dispose();
    }
}
