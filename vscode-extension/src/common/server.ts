/**
 * The server's life: find the interpreter, check `editloop` there (offer to install it), start
 * `<python> -m editloop serve` over stdio, restart on demand, and forward commands to it.
 * State changes are published for the status item; notifications are passed to the views.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
    CodeLensRequest,
    DidChangeConfigurationNotification,
    ExecuteCommandRequest,
    LanguageClientOptions,
    ProgressToken,
    RevealOutputChannelOn,
    ServerOptions,
    State,
    TransportKind,
} from 'vscode-languageclient/node';
import { EditloopClient, ServerCommandsFeature, ServerProgressFeature } from './client';
import { debounce } from './debounce';
import { log, showError } from './logging';
import { RegionsNotification, RunFinishedNotification, StatsChangedNotification } from './protocol';
import {
    checkEditloop,
    describeCheck,
    findInterpreter,
    Interpreter,
    pipInstallArgs,
    pipInstallCommandLine,
    runProcess,
    serverArgs,
    which,
} from './python';
import { activeInterpreter, onDidChangeInterpreter } from './pythonExtension';
import {
    changedSettings,
    ConfigurationLike,
    expandPath,
    needsRestart,
    readSettings,
    SECTION,
    settingReader,
    Settings,
    toServerSettings,
} from './settings';

export type ServerState =
    | { kind: 'stopped'; detail: string }
    | { kind: 'starting'; detail: string }
    | { kind: 'running'; detail: string; python: string; version: string }
    | { kind: 'error'; detail: string };

export class ServerNotRunning extends Error {}

export interface ServerHooks {
    onProgressCreate(token: ProgressToken, client: EditloopClient): void;
    onProgressClear(): void;
}

const DOCUMENT_SELECTOR = [{ scheme: 'file' }, { scheme: 'untitled' }];
const RESTART_DELAY_MS = 1000;

/**
 * The `editloop.*` settings in effect. In an untrusted workspace the restricted ones (package.json's
 * restrictedConfigurations) come from the user only, whatever the workspace's files say.
 */
export function currentSettings(): Settings {
    const config: ConfigurationLike = vscode.workspace.getConfiguration(SECTION);
    const { settings, problems } = readSettings(settingReader(config, vscode.workspace.isTrusted));
    problems.forEach((p) => log().warn(p));
    return settings;
}

export class EditloopServer implements vscode.Disposable {
    private client: EditloopClient | undefined;
    private commandsFeature: ServerCommandsFeature | undefined;
    private settings: Settings = currentSettings();
    private interpreter: Interpreter | undefined;
    private chain: Promise<void> = Promise.resolve();
    private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
    private readonly regionsEmitter = new vscode.EventEmitter<unknown>();
    private readonly runFinishedEmitter = new vscode.EventEmitter<unknown>();
    private readonly statsChangedEmitter = new vscode.EventEmitter<void>();
    private readonly settingsEmitter = new vscode.EventEmitter<Settings>();
    private readonly disposables: vscode.Disposable[] = [];
    private readonly restartSoon = debounce(() => void this.restart(), RESTART_DELAY_MS);
    private _state: ServerState = { kind: 'stopped', detail: 'Not started' };

    readonly onDidChangeState = this.stateEmitter.event;
    /** Raw `editloop/regions` params (parse with protocol.parseRegionsParams). */
    readonly onRegions = this.regionsEmitter.event;
    /** Raw `editloop/runFinished` params (parse with protocol.parseRunFinished). */
    readonly onRunFinished = this.runFinishedEmitter.event;
    /** `editloop/statsChanged`: events were recorded (by this server or another process). */
    readonly onStatsChanged = this.statsChangedEmitter.event;
    /** The settings in effect changed (a settings edit, or trust granted). */
    readonly onDidChangeSettings = this.settingsEmitter.event;

    constructor(private readonly hooks: ServerHooks) {
        this.disposables.push(
            this.stateEmitter,
            this.regionsEmitter,
            this.runFinishedEmitter,
            this.statsChangedEmitter,
            this.settingsEmitter,
            vscode.workspace.onDidChangeConfiguration((e) => {
                if (e.affectsConfiguration(SECTION)) {
                    this.settingsChanged();
                }
            }),
            vscode.workspace.onDidGrantWorkspaceTrust(() => this.trustGranted()),
        );
        void onDidChangeInterpreter(() => {
            if (this.interpreter?.source !== 'setting') {
                log().info('The Python extension changed its active environment: restarting the server');
                this.restartSoon.schedule();
            }
        }).then((d) => d && this.disposables.push(d));
    }

    get state(): ServerState {
        return this._state;
    }

    /** The settings in effect: those the server was given, or is about to be given on its restart. */
    get settingsInUse(): Settings {
        return this.settings;
    }

    private setState(state: ServerState): void {
        this._state = state;
        this.stateEmitter.fire(state);
    }

    /** Starts, restarts and stops run one after another, never interleaved. */
    private serialize(step: () => Promise<void>): Promise<void> {
        this.chain = this.chain.then(step, step);
        return this.chain;
    }

    start(): Promise<void> {
        return this.serialize(() => this.doStart());
    }

    restart(): Promise<void> {
        this.restartSoon.cancel();
        return this.serialize(async () => {
            await this.doStop();
            await this.doStart();
        });
    }

    stop(): Promise<void> {
        return this.serialize(() => this.doStop());
    }

    private settingsChanged(): void {
        const next = currentSettings();
        const changed = changedSettings(this.settings, next);
        this.settings = next;
        if (changed.length === 0) {
            return;
        }
        this.settingsEmitter.fire(next);
        log().info(`Settings changed: ${changed.join(', ')}`);
        if (needsRestart(changed)) {
            this.restartSoon.schedule();
        } else {
            this.sendSettings();
        }
    }

    /**
     * The user trusted the workspace: its values of the restricted settings now count, and an
     * interpreter inside it may run, and the server may run in it. Re-read the settings and restart
     * (debounced with the configuration change VS Code sends alongside).
     */
    private trustGranted(): void {
        log().info('Workspace trusted: reading its settings and restarting the server');
        this.settings = currentSettings();
        this.settingsEmitter.fire(this.settings);
        this.restartSoon.schedule();
    }

    private sendSettings(): void {
        if (this.client?.isRunning()) {
            void this.client.sendNotification(DidChangeConfigurationNotification.type, {
                settings: { [SECTION]: toServerSettings(this.settings) },
            });
        }
    }

    private async resolveInterpreter(): Promise<Interpreter | undefined> {
        const folder = vscode.workspace.workspaceFolders?.[0];
        return findInterpreter({
            setting: expandPath(this.settings.python, { home: os.homedir(), workspaceFolder: folder?.uri.fsPath }),
            pythonExtension: () => activeInterpreter(folder?.uri),
            which: (name) => which(name),
            platform: process.platform,
            log: (m) => log().info(m),
            untrustedFolders: vscode.workspace.isTrusted ? [] : (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
        });
    }

    private async doStart(): Promise<void> {
        this.settings = currentSettings();
        this.setState({ kind: 'starting', detail: 'Looking for Python' });
        const interpreter = await this.resolveInterpreter();
        this.interpreter = interpreter;
        if (!interpreter) {
            const detail = vscode.workspace.isTrusted
                ? 'No Python interpreter found: set editloop.python, select one in the Python extension, or put python3 on PATH.'
                : 'No Python interpreter outside this untrusted folder: set editloop.python in your user settings, put python3 on PATH, or trust the folder.';
            this.setState({ kind: 'error', detail });
            void showError(detail, 'Open Settings').then((c) => c && openSettings('editloop.python'));
            return;
        }
        const check = await checkEditloop(interpreter.python, runProcess);
        if (check.kind !== 'ok') {
            const detail = describeCheck(interpreter.python, check);
            this.setState({ kind: 'error', detail });
            log().error(detail);
            if (check.kind === 'broken') {
                void showError(detail, 'Open Settings').then((c) => c && openSettings('editloop.python'));
            } else {
                void this.offerInstall(interpreter.python, detail);
            }
            return;
        }
        log().info(`Server: editloop ${check.version} in ${interpreter.python}`);
        this.setState({ kind: 'starting', detail: `Starting editloop ${check.version}` });
        try {
            await this.startClient(interpreter.python);
            this.setState({ kind: 'running', detail: `editloop ${check.version}`, python: interpreter.python, version: check.version });
        } catch (err) {
            const detail = `The Editloop server failed to start: ${errorMessage(err)}`;
            this.setState({ kind: 'error', detail });
            void showError(detail);
        }
    }

    private async startClient(python: string): Promise<void> {
        const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
        if (this.settings.dataDir) {
            env.EDITLOOP_HOME = expandPath(this.settings.dataDir, { home: os.homedir() });
        }
        const serverOptions: ServerOptions = {
            command: python,
            args: serverArgs(),
            transport: TransportKind.stdio,
            options: { env, cwd: serverCwd() },
        };
        const clientOptions: LanguageClientOptions = {
            documentSelector: DOCUMENT_SELECTOR,
            outputChannel: log(),
            traceOutputChannel: log(),
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: toServerSettings(this.settings),
            middleware: this.middleware,
        };
        log().info(`Server: ${python} ${serverArgs().join(' ')}`);
        const client = new EditloopClient(serverOptions, clientOptions);
        const commands = new ServerCommandsFeature();
        client.registerFeature(commands);
        client.registerFeature(
            new ServerProgressFeature(
                client,
                (token) => this.hooks.onProgressCreate(token, client),
                () => this.hooks.onProgressClear(),
            ),
        );
        client.onNotification(RegionsNotification, (params: unknown) => this.regionsEmitter.fire(params));
        client.onNotification(RunFinishedNotification, (params: unknown) => this.runFinishedEmitter.fire(params));
        client.onNotification(StatsChangedNotification, () => this.statsChangedEmitter.fire());
        client.onDidChangeState((e) => {
            if (e.newState === State.Stopped && this.client === client && this._state.kind === 'running') {
                this.setState({ kind: 'error', detail: 'The server stopped; see the logs' });
            } else if (e.newState === State.Running && this.client === client && this._state.kind === 'error') {
                this.setState({ kind: 'running', detail: 'Restarted after a crash', python, version: '' });
            }
        });
        this.client = client;
        this.commandsFeature = commands;
        await client.start();
        log().info(`Server: running; it offers ${[...commands.commands()].sort().join(', ') || 'no commands'}`);
        this.sendSettings();
    }

    /** Extra middleware, set by the views before the first start (CodeLens "Diff" entries). */
    middleware: LanguageClientOptions['middleware'] = {};

    private async doStop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.commandsFeature = undefined;
        if (client) {
            try {
                await client.stop(5000);
            } catch (err) {
                log().warn(`Server: stop failed: ${errorMessage(err)}`);
            }
            await client.dispose().catch(() => undefined);
        }
        this.setState({ kind: 'stopped', detail: 'Stopped' });
    }

    private async offerInstall(python: string, detail: string): Promise<void> {
        const commandLine = pipInstallCommandLine(python);
        log().info(`Install the server with: ${commandLine}`);
        const choice = await vscode.window.showErrorMessage(
            `${detail} Install it with: ${commandLine}`,
            'Install',
            'Copy Command',
            'Show Logs',
        );
        if (choice === 'Copy Command') {
            await vscode.env.clipboard.writeText(commandLine);
        } else if (choice === 'Show Logs') {
            log().show();
        } else if (choice === 'Install') {
            const result = await vscode.window.withProgress(
                { location: vscode.ProgressLocation.Notification, title: `Editloop: installing into ${python}` },
                () => runProcess(python, pipInstallArgs(), 15 * 60_000),
            );
            log().info(`${commandLine}\n${result.stdout}${result.stderr}`);
            if (result.code === 0) {
                void vscode.window.showInformationMessage('Editloop: the server is installed; starting it.');
                await this.restart();
            } else {
                await showError(`Installing editloop failed (${result.error ?? `exit code ${String(result.code)}`}). Run it yourself: ${commandLine}`);
            }
        }
    }

    /** True when the running server advertises `command` (or has not said what it offers). */
    supports(command: string): boolean {
        const offered = this.commandsFeature?.commands();
        return !offered || offered.size === 0 || offered.has(command);
    }

    /** `workspace/executeCommand` with one object argument; throws ServerNotRunning or the server's error. */
    async execute(command: string, arg: object, token?: vscode.CancellationToken): Promise<unknown> {
        const client = this.client;
        if (!client || !client.isRunning()) {
            throw new ServerNotRunning(`The Editloop server is not running (${this._state.detail}).`);
        }
        if (!this.supports(command)) {
            throw new Error(`This version of the Editloop server does not offer ${command}; update it.`);
        }
        return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] }, token);
    }

    isRunning(): boolean {
        return this.client?.isRunning() ?? false;
    }

    /** Asks VS Code to fetch the server's CodeLenses for `document` again (after a region change). */
    refreshServerCodeLenses(document: vscode.TextDocument): void {
        const feature = this.client?.getFeature(CodeLensRequest.method);
        feature?.getProvider(document)?.onDidChangeCodeLensEmitter.fire();
    }

    serverCapabilities() {
        return this.client?.initializeResult?.capabilities;
    }

    dispose(): void {
        this.restartSoon.cancel();
        void this.stop();
        this.disposables.forEach((d) => d.dispose());
    }
}

/**
 * The server's working folder: the first workspace folder when trusted; the home folder otherwise,
 * since `python -m` puts its working folder first on sys.path, and a module there (an `editloop/`,
 * a `json.py`) would be imported in place of the real one.
 */
function serverCwd(): string | undefined {
    return vscode.workspace.isTrusted ? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath : os.homedir();
}

export function errorMessage(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

function openSettings(query: string): Thenable<unknown> {
    return vscode.commands.executeCommand('workbench.action.openSettings', query);
}
