/** Wires the pieces: server lifecycle, commands, views. No logic of its own. */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { createLog, log, showError } from './common/logging';
import { runLabel } from './common/names';
import { parseRegionsParams, parseRunFinished, ServerCommand } from './common/protocol';
import { RegionStore } from './common/regions';
import { RunTracker } from './common/runs';
import { EditloopServer, errorMessage } from './common/server';
import { diffLensMiddleware, RegionCodeLensProvider } from './views/codelens';
import { trackRegionAtCursor } from './views/context';
import { RegionDecorations } from './views/decorations';
import { ORIGINAL_SCHEME, OriginalContentProvider } from './views/diff';
import { RegionHoverProvider } from './views/hover';
import { TrainingProgress } from './views/progress';
import { StatsPanel } from './views/statsPanel';
import { ServerStatusItem, StatsStatusBar } from './views/status';

let server: EditloopServer | undefined;

const SELECTOR: vscode.DocumentSelector = [{ scheme: 'file' }, { scheme: 'untitled' }];

export function activate(context: vscode.ExtensionContext): void {
    context.subscriptions.push(createLog());
    const store = new RegionStore((uri) => vscode.Uri.parse(uri).toString());
    const runs = new RunTracker();
    const progress = new TrainingProgress(runs, async (runId) => {
        try {
            await srv.execute(ServerCommand.cancel, { runId });
        } catch (err) {
            await showError(`Editloop: cancelling the training ${runLabel(runId)} failed: ${errorMessage(err)}`);
        }
    });
    const srv = new EditloopServer({
        onProgressCreate: (token, client) => progress.create(token, client),
        onProgressClear: () => progress.clear(),
    });
    server = srv;
    srv.middleware = diffLensMiddleware;

    const execute = (command: string, arg: object, token?: vscode.CancellationToken) => srv.execute(command, arg, token);
    const fetchStats = () => srv.execute(ServerCommand.stats, {});
    const panel = new StatsPanel(context.extensionUri, fetchStats, () => vscode.commands.executeCommand('editloop.train'));
    const serverStatus = new ServerStatusItem();
    const statsBar = new StatsStatusBar(fetchStats, () => ({ settings: srv.settingsInUse, trusted: vscode.workspace.isTrusted }));

    // CodeLenses and hovers come from the server when it offers them; otherwise from the region list.
    let lensProvider: vscode.Disposable | undefined;
    let hoverProvider: vscode.Disposable | undefined;
    const configureProviders = () => {
        const caps = srv.serverCapabilities();
        if (!caps?.codeLensProvider && !lensProvider) {
            const provider = new RegionCodeLensProvider(store);
            lensProvider = vscode.Disposable.from(provider, vscode.languages.registerCodeLensProvider(SELECTOR, provider));
            log().info('CodeLenses: drawn by the extension from editloop/regions');
        } else if (caps?.codeLensProvider && lensProvider) {
            lensProvider.dispose();
            lensProvider = undefined;
        }
        if (!caps?.hoverProvider && !hoverProvider) {
            hoverProvider = vscode.languages.registerHoverProvider(SELECTOR, new RegionHoverProvider(store, execute));
        } else if (caps?.hoverProvider && hoverProvider) {
            hoverProvider.dispose();
            hoverProvider = undefined;
        }
    };

    context.subscriptions.push(
        srv,
        progress,
        panel,
        serverStatus,
        statsBar,
        new RegionDecorations(store, context.extensionUri),
        trackRegionAtCursor(store),
        vscode.window.registerWebviewViewProvider(StatsPanel.viewId, panel),
        vscode.workspace.registerTextDocumentContentProvider(ORIGINAL_SCHEME, new OriginalContentProvider(execute)),
        { dispose: () => (lensProvider?.dispose(), hoverProvider?.dispose()) },
        ...registerCommands({ server: srv, store, runs, panel, memento: context.globalState, workspaceState: context.workspaceState }),
        srv.onDidChangeState((state) => {
            serverStatus.show(state);
            if (state.kind === 'running') {
                configureProviders();
                void statsBar.refresh();
                void panel.refresh();
            } else if (state.kind !== 'starting') {
                store.clear();
                statsBar.hide();
                void panel.refresh();
            }
        }),
        srv.onDidChangeSettings(() => statsBar.scheduleRefresh()),
        srv.onRegions((raw) => {
            const params = parseRegionsParams(raw);
            if (!params) {
                log().warn(`Ignoring a malformed editloop/regions notification: ${JSON.stringify(raw).slice(0, 200)}`);
                return;
            }
            const uri = store.update(params);
            const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
            if (document) {
                srv.refreshServerCodeLenses(document);
            }
            statsBar.scheduleRefresh();
            panel.scheduleRefresh();
        }),
        // Events recorded (here, in another window, by the CLI): the figures are stale.
        srv.onStatsChanged(() => {
            panel.scheduleRefresh();
            statsBar.scheduleRefresh();
        }),
        srv.onRunFinished((raw) => {
            const params = parseRunFinished(raw);
            if (!params) {
                log().warn(`Ignoring a malformed editloop/runFinished notification: ${JSON.stringify(raw).slice(0, 200)}`);
                return;
            }
            progress.runFinished(params, () => void panel.reveal());
            panel.scheduleRefresh();
            statsBar.scheduleRefresh();
        }),
    );

    void srv.start();
}

export async function deactivate(): Promise<void> {
    await server?.stop();
    server = undefined;
}
