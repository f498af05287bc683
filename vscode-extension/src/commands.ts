/**
 * The palette commands. Each gathers what the user means (the region at the cursor, a prompt, a
 * file name) and forwards ONE object to the server's command of the same id; the server decides.
 * Command ids equal the server's (`editloop.accept`, ...): client.ts keeps vscode-languageclient
 * from registering the server's commands itself, which would clash with these.
 */
import * as vscode from 'vscode';
import { DocumentFacts, rememberedType, rememberType, SERVER_DECIDES, serverInfersType, trackTypeFor, typeChoices } from './common/artifactType';
import { log, showError } from './common/logging';
import { generatedMessage, parseGenerateResult, runLabel } from './common/names';
import { artifactTypeOf, parseRegionDetail, RegionDetail, runIdOf, ServerCommand } from './common/protocol';
import { RegionStore } from './common/regions';
import { RunTracker } from './common/runs';
import { EditloopServer, errorMessage, ServerNotRunning } from './common/server';
import { percent } from './common/statsModel';
import { toLspPosition, toLspRange } from './views/convert';
import { showDiff } from './views/diff';
import { removeRegionText } from './views/rejectText';
import { StatsPanel } from './views/statsPanel';

export interface CommandContext {
    server: EditloopServer;
    store: RegionStore;
    runs: RunTracker;
    panel: StatsPanel;
    /** Global state: the last model name typed in Mark Selection. */
    memento: vscode.Memento;
    /** Workspace state: the artifact type answered per file. */
    workspaceState: vscode.Memento;
}

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
    return typeof v === 'object' && v !== null ? (v as Obj) : {};
}

/** Runs a command body; any failure becomes one error message with "Show Logs". */
function guarded(name: string, body: (...args: unknown[]) => Promise<unknown>) {
    return async (...args: unknown[]) => {
        try {
            await body(...args);
        } catch (err) {
            if (err instanceof vscode.CancellationError) {
                return;
            }
            if (err instanceof ServerNotRunning) {
                const choice = await showError(err.message, 'Restart Server');
                if (choice === 'Restart Server') {
                    await vscode.commands.executeCommand('editloop.restart');
                }
                return;
            }
            await showError(`Editloop: ${name} failed: ${errorMessage(err)}`);
        }
    };
}

function activeEditor(): vscode.TextEditor {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
        throw new Error('open a file first');
    }
    return editor;
}

function note(message: string): void {
    log().info(message);
    vscode.window.setStatusBarMessage(message, 5000);
}

function factsOf(document: vscode.TextDocument): DocumentFacts {
    return { languageId: document.languageId, path: document.uri.path, text: document.getText() };
}

/**
 * Asks what kind of artifact the output is, this file's last answer first (Enter repeats it), and
 * remembers the answer per file. A type id, SERVER_DECIDES, or undefined when dismissed.
 */
async function askArtifactType(ctx: CommandContext, document: vscode.TextDocument, allowServerChoice: boolean): Promise<string | undefined> {
    const uri = document.uri.toString();
    const items = typeChoices(document.languageId, allowServerChoice, rememberedType(ctx.workspaceState, uri));
    const picked = await vscode.window.showQuickPick(items, { title: 'Editloop: what kind of artifact is it?', ignoreFocusOut: true });
    if (!picked) {
        return undefined;
    }
    await rememberType(ctx.workspaceState, uri, picked.id);
    return picked.id;
}

/** The region's range and text while it is pending, or undefined (then Reject leaves the text). */
async function pendingDetail(server: EditloopServer, regionId: string): Promise<RegionDetail | undefined> {
    try {
        const detail = parseRegionDetail(await server.execute(ServerCommand.region, { regionId }));
        return detail?.status === 'pending' ? detail : undefined;
    } catch (err) {
        log().warn(`Reject: could not read the region before rejecting it: ${errorMessage(err)}`);
        return undefined;
    }
}

/** The region a command is about: from a CodeLens argument, else the pending region at the cursor. */
function targetRegion(ctx: CommandContext, arg: unknown): { regionId: string; uri?: string } | undefined {
    const a = obj(arg);
    if (typeof a.regionId === 'string' || typeof a.regionId === 'number') {
        const regionId = String(a.regionId);
        return { regionId, uri: ctx.store.find(regionId)?.uri };
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
        return undefined;
    }
    const uri = editor.document.uri.toString();
    const region = ctx.store.pendingAt(uri, toLspPosition(editor.selection.active));
    return region ? { regionId: region.id, uri } : undefined;
}

async function runningRuns(ctx: CommandContext): Promise<string[]> {
    const ids = new Set(ctx.runs.list());
    try {
        const stats = obj(await ctx.server.execute(ServerCommand.stats, {}));
        for (const run of Array.isArray(stats.recentRuns) ? stats.recentRuns : []) {
            const r = obj(run);
            if ((r.status === 'running' || r.status === 'queued') && (typeof r.id === 'string' || typeof r.id === 'number')) {
                ids.add(String(r.id));
            }
        }
    } catch (err) {
        log().warn(`Could not list runs from the server: ${errorMessage(err)}`);
    }
    return [...ids];
}

const EXPORT_FORMATS = [
    { label: 'sft', description: 'prompt / completion (TRL SFT)' },
    { label: 'dpo', description: 'prompt / chosen / rejected (TRL DPO)' },
    { label: 'kto', description: 'prompt / completion / label (TRL KTO)' },
    { label: 'openai', description: 'chat messages (OpenAI fine-tuning)' },
];

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
    const { server } = ctx;
    const register = (id: string, body: (...args: unknown[]) => Promise<unknown>) =>
        vscode.commands.registerCommand(id, guarded(id.replace('editloop.', ''), body));

    return [
        register('editloop.generate', async () => {
            const editor = activeEditor();
            const prompt = await vscode.window.showInputBox({
                title: 'Editloop: Generate',
                prompt: 'What should the model write at the cursor?',
                placeHolder: 'e.g. an ER diagram for customers, orders and products',
                ignoreFocusOut: true,
            });
            if (!prompt?.trim()) {
                return;
            }
            const arg: Obj = { uri: editor.document.uri.toString(), position: toLspPosition(editor.selection.active), prompt };
            // The server infers the type of a Mermaid file, a Markdown file with a mermaid fence
            // or a known language; only for other files is the user asked (last answer first).
            if (!serverInfersType(factsOf(editor.document))) {
                const answer = await askArtifactType(ctx, editor.document, true);
                if (answer === undefined) {
                    return;
                }
                if (answer !== SERVER_DECIDES) {
                    arg.artifactType = answer;
                }
            }
            const result = await vscode.window.withProgress(
                { location: vscode.ProgressLocation.Notification, title: 'Editloop: generating…', cancellable: true },
                (_progress, token) => server.execute(ServerCommand.generate, arg, token),
            );
            note(generatedMessage(parseGenerateResult(result)));
        }),

        register('editloop.track', async () => {
            const editor = activeEditor();
            const selection = editor.selection;
            if (selection.isEmpty) {
                throw new Error('select the AI output first');
            }
            const prompt = await vscode.window.showInputBox({
                title: 'Editloop: Mark Selection as AI Output (1/2)',
                prompt: 'The prompt that produced it (optional: press Enter to skip)',
                ignoreFocusOut: true,
            });
            if (prompt === undefined) {
                return;
            }
            const lastModel = ctx.memento.get<string>('editloop.lastModel', '');
            const model = await vscode.window.showInputBox({
                title: 'Editloop: Mark Selection as AI Output (2/2)',
                prompt: 'The model that wrote it (optional)',
                value: lastModel,
                placeHolder: 'e.g. gpt-4o, claude-sonnet, llama3.1:8b',
                ignoreFocusOut: true,
            });
            if (model === undefined) {
                return;
            }
            await ctx.memento.update('editloop.lastModel', model);
            const text = editor.document.getText(selection);
            const artifactType = trackTypeFor(factsOf(editor.document), text) ?? (await askArtifactType(ctx, editor.document, false));
            if (!artifactType) {
                return;
            }
            const result = await server.execute(ServerCommand.track, {
                uri: editor.document.uri.toString(),
                range: toLspRange(selection),
                prompt,
                model,
                artifactType,
                language: editor.document.languageId,
            });
            note(`Editloop: tracking the selection as ${artifactTypeOf(result) ?? artifactType} output; edit it, then Accept or Reject.`);
        }),

        register('editloop.accept', async (arg) => {
            const target = targetRegion(ctx, arg);
            if (!target) {
                void vscode.window.showInformationMessage('Editloop: no pending AI region at the cursor.');
                return;
            }
            const r = obj(await server.execute(ServerCommand.accept, { regionId: target.regionId }));
            const similarity = typeof r.similarity === 'number' ? `, similarity ${percent(r.similarity)}` : '';
            note(`Editloop: ${r.action === 'edit' ? 'accepted with edits' : 'accepted'}${similarity}.`);
        }),

        register('editloop.reject', async (arg) => {
            const target = targetRegion(ctx, arg);
            if (!target) {
                void vscode.window.showInformationMessage('Editloop: no pending AI region at the cursor.');
                return;
            }
            // Read the range and text first: once rejected, the region is no longer pending.
            const detail = server.settingsInUse.rejectRemovesText ? await pendingDetail(server, target.regionId) : undefined;
            await server.execute(ServerCommand.reject, { regionId: target.regionId });
            const removed = detail ? await removeRegionText(detail) : false;
            note(removed ? 'Editloop: rejected, and its text removed (Undo brings it back).' : 'Editloop: rejected.');
        }),

        register('editloop.diff', async (arg) => {
            const target = targetRegion(ctx, arg);
            const uri = target?.uri ?? vscode.window.activeTextEditor?.document.uri.toString();
            if (!target || !uri) {
                void vscode.window.showInformationMessage('Editloop: no pending AI region at the cursor.');
                return;
            }
            await showDiff(vscode.Uri.parse(uri), target.regionId);
        }),

        register('editloop.train', async () => {
            const runId = runIdOf(await server.execute(ServerCommand.train, { method: 'auto' }));
            if (runId !== undefined) {
                ctx.runs.started(runId);
            }
            note(runId === undefined ? 'Editloop: training started.' : `Editloop: training ${runLabel(runId)} started.`);
            ctx.panel.scheduleRefresh();
        }),

        register('editloop.cancel', async (arg) => {
            const a = obj(arg);
            let runId = typeof a.runId === 'string' || typeof a.runId === 'number' ? String(a.runId) : undefined;
            if (runId === undefined) {
                const running = await runningRuns(ctx);
                if (running.length === 0) {
                    void vscode.window.showInformationMessage('Editloop: no training run in progress.');
                    return;
                }
                const picked =
                    running.length === 1
                        ? { id: running[0] }
                        : await vscode.window.showQuickPick(
                              running.map((id) => ({ label: runLabel(id), description: id, id })),
                              { title: 'Editloop: cancel which run?' },
                          );
                runId = picked?.id;
            }
            if (runId === undefined) {
                return;
            }
            const r = obj(await server.execute(ServerCommand.cancel, { runId }));
            note(`Editloop: training ${runLabel(runId)} ${typeof r.status === 'string' ? r.status : 'cancelled'}.`);
        }),

        register('editloop.stats', () => ctx.panel.reveal()),
        register('editloop.refreshStats', () => ctx.panel.refresh()),

        register('editloop.export', async () => {
            const format = await vscode.window.showQuickPick(EXPORT_FORMATS, { title: 'Editloop: export which dataset format?' });
            if (!format) {
                return;
            }
            const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
            const target = await vscode.window.showSaveDialog({
                title: 'Editloop: Export Dataset',
                defaultUri: folder ? vscode.Uri.joinPath(folder, `editloop-${format.label}.jsonl`) : undefined,
                filters: { 'JSON Lines': ['jsonl'] },
                saveLabel: 'Export',
            });
            if (!target) {
                return;
            }
            if (target.scheme !== 'file') {
                throw new Error('the server can only write to local files');
            }
            const arg = { format: format.label, path: target.fsPath };
            let r: Obj;
            try {
                r = obj(await server.execute(ServerCommand.export, arg));
            } catch (err) {
                // The server replaces an existing file only when told to (overwrite: true).
                if (!(err instanceof Error) || !err.message.includes('already exists')) {
                    throw err;
                }
                const replace = await vscode.window.showWarningMessage(`${target.fsPath} already exists. Replace it?`, { modal: true }, 'Replace');
                if (replace !== 'Replace') {
                    return;
                }
                r = obj(await server.execute(ServerCommand.export, { ...arg, overwrite: true }));
            }
            const rows = typeof r.rows === 'number' ? r.rows : 0;
            const choice = await vscode.window.showInformationMessage(`Editloop: exported ${rows} rows to ${target.fsPath}.`, 'Open');
            if (choice === 'Open') {
                await vscode.window.showTextDocument(target);
            }
        }),

        register('editloop.forget', async (arg) => {
            const a = obj(arg);
            const uri = typeof a.uri === 'string' ? a.uri : activeEditor().document.uri.toString();
            const name = vscode.Uri.parse(uri).path.split('/').pop() || uri;
            const choice = await vscode.window.showWarningMessage(
                `Forget everything Editloop captured from ${name}?`,
                { modal: true, detail: 'Its tracked regions and recorded events are deleted from the feedback database. This cannot be undone.' },
                'Forget',
            );
            if (choice !== 'Forget') {
                return;
            }
            const r = obj(await server.execute(ServerCommand.forget, { uri }));
            note(`Editloop: forgot ${typeof r.deleted === 'number' ? r.deleted : 0} records from ${name}.`);
        }),

        // The server's inline completions carry this command; VS Code runs it when one is accepted.
        register('editloop.inlineAccepted', (arg) => server.execute(ServerCommand.inlineAccepted, (arg ?? {}) as object)),
        register('editloop.restart', () => server.restart()),
        register('editloop.showLogs', async () => log().show()),
    ];
}
