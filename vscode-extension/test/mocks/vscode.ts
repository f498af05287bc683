/**
 * A minimal in-memory `vscode` module for unit tests: real value classes (Uri, Range, Position,
 * EventEmitter, ...) and recording stubs for the namespaces. Only what the extension touches.
 */
import { URI } from './uri';

export class Disposable {
    constructor(private readonly fn: () => void = () => undefined) {}
    static from(...items: { dispose(): unknown }[]) {
        return new Disposable(() => items.forEach((i) => i.dispose()));
    }
    dispose() {
        this.fn();
    }
}

export class EventEmitter<T> {
    private listeners = new Set<(e: T) => void>();
    event = (listener: (e: T) => void) => {
        this.listeners.add(listener);
        return new Disposable(() => this.listeners.delete(listener));
    };
    fire(e: T) {
        [...this.listeners].forEach((l) => l(e));
    }
    dispose() {
        this.listeners.clear();
    }
}

export class Position {
    constructor(readonly line: number, readonly character: number) {}
}

export class Range {
    readonly start: Position;
    readonly end: Position;
    constructor(a: number | Position, b: number | Position, c?: number, d?: number) {
        if (typeof a === 'number') {
            this.start = new Position(a, b as number);
            this.end = new Position(c!, d!);
        } else {
            this.start = a;
            this.end = b as Position;
        }
    }
}

export class Selection extends Range {
    get anchor(): Position {
        return this.start;
    }
    get active(): Position {
        return this.end;
    }
    get isEmpty(): boolean {
        return this.start.line === this.end.line && this.start.character === this.end.character;
    }
}

export class CodeLens {
    constructor(readonly range: Range, public command?: { title: string; command: string; arguments?: unknown[]; tooltip?: string }) {}
}

export class MarkdownString {
    value = '';
    isTrusted = false;
    supportHtml = false;
    appendMarkdown(s: string) {
        this.value += s;
        return this;
    }
    appendText(s: string) {
        // VS Code escapes markdown syntax in appendText.
        this.value += s.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, '\\$&');
        return this;
    }
}

export class Hover {
    constructor(readonly contents: MarkdownString, readonly range?: Range) {}
}

export class ThemeColor {
    constructor(readonly id: string) {}
}

export class CancellationError extends Error {}

/** Records text edits; `workspace.applyEdit` (a test's stub) applies them. */
export class WorkspaceEdit {
    readonly edits: { uri: URI; range: Range; newText: string }[] = [];
    delete(uri: URI, range: Range) {
        this.edits.push({ uri, range, newText: '' });
    }
    replace(uri: URI, range: Range, newText: string) {
        this.edits.push({ uri, range, newText });
    }
    insert(uri: URI, position: Position, newText: string) {
        this.edits.push({ uri, range: new Range(position, position), newText });
    }
}

export const Uri = URI;

export enum StatusBarAlignment {
    Left = 1,
    Right = 2,
}
export enum OverviewRulerLane {
    Left = 1,
    Center = 2,
    Right = 4,
    Full = 7,
}
export enum DecorationRangeBehavior {
    OpenOpen = 0,
    ClosedClosed = 1,
    OpenClosed = 2,
    ClosedOpen = 3,
}
export enum ProgressLocation {
    SourceControl = 1,
    Window = 10,
    Notification = 15,
}
export enum LanguageStatusSeverity {
    Information = 0,
    Warning = 1,
    Error = 2,
}

/** Every command id registered through `commands.registerCommand`, in order. */
export const registeredCommands: string[] = [];
/** The callback of each registered command, to run a command as VS Code would. */
export const commandHandlers = new Map<string, (...args: unknown[]) => unknown>();

export const commands = {
    registerCommand(id: string, fn: (...args: unknown[]) => unknown) {
        if (registeredCommands.includes(id)) {
            throw new Error(`command '${id}' already exists`);
        }
        registeredCommands.push(id);
        commandHandlers.set(id, fn);
        return new Disposable(() => {
            registeredCommands.splice(registeredCommands.indexOf(id), 1);
            commandHandlers.delete(id);
        });
    },
    executeCommand: async () => undefined,
};

const noEvent = () => new Disposable();

/** Fire to simulate the user trusting the workspace (set `workspace.isTrusted = true` first). */
export const trustGranted = new EventEmitter<void>();

export const workspace = {
    workspaceFolders: undefined as { uri: URI; name: string; index: number }[] | undefined,
    textDocuments: [] as unknown[],
    applyEdit: async (_edit: WorkspaceEdit): Promise<boolean> => false,
    isTrusted: true,
    getConfiguration: (): { get(name: string): unknown; inspect(name: string): unknown } => ({ get: () => undefined, inspect: () => undefined }),
    onDidGrantWorkspaceTrust: trustGranted.event,
    onDidChangeConfiguration: noEvent,
    onDidOpenTextDocument: noEvent,
    onDidChangeTextDocument: noEvent,
    onDidCloseTextDocument: noEvent,
    onDidSaveTextDocument: noEvent,
    onWillSaveTextDocument: noEvent,
    onDidChangeWorkspaceFolders: noEvent,
    registerTextDocumentContentProvider: () => new Disposable(),
};

export interface MockStatusBarItem {
    text: string;
    tooltip?: string;
    visible: boolean;
}

/** Every status bar item created through `window.createStatusBarItem`, newest last. */
export const statusBarItems: MockStatusBarItem[] = [];

export const window = {
    activeTextEditor: undefined as unknown,
    showQuickPick: async (_items: unknown, _options?: unknown): Promise<unknown> => undefined,
    showInputBox: async (_options?: unknown): Promise<string | undefined> => undefined,
    withProgress: async <T>(_options: unknown, task: (progress: { report(v: unknown): void }, token: unknown) => Promise<T>): Promise<T> =>
        task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: () => new Disposable() }),
    visibleTextEditors: [],
    createOutputChannel: () => ({
        info() {},
        warn() {},
        error() {},
        debug() {},
        trace() {},
        append() {},
        appendLine() {},
        show() {},
        dispose() {},
        logLevel: 0,
        onDidChangeLogLevel: () => new Disposable(),
    }),
    showErrorMessage: async () => undefined,
    showInformationMessage: async () => undefined,
    showWarningMessage: async () => undefined,
    setStatusBarMessage: () => new Disposable(),
    createStatusBarItem() {
        const item = {
            text: '',
            tooltip: undefined as string | undefined,
            name: '',
            command: undefined as unknown,
            visible: false,
            show() {
                item.visible = true;
            },
            hide() {
                item.visible = false;
            },
            dispose() {},
        };
        statusBarItems.push(item);
        return item;
    },
    onDidChangeVisibleTextEditors: noEvent,
    onDidChangeActiveTextEditor: noEvent,
    onDidChangeTextEditorSelection: noEvent,
};

export const languages = {
    registerCodeLensProvider: () => new Disposable(),
    registerHoverProvider: () => new Disposable(),
};

export const extensions = { getExtension: () => undefined };
export const env = { appName: 'test', language: 'en', clipboard: { writeText: async () => undefined } };
export const version = '1.91.0';

// Base classes vscode-languageclient extends when its modules load.
export class CompletionItem {}
export class DocumentLink {}
export class InlayHint {}
export class SymbolInformation {}
export class CallHierarchyItem {}
export class TypeHierarchyItem {}
export class CancellationTokenSource {
    token = { isCancellationRequested: false, onCancellationRequested: () => new Disposable() };
    cancel() {}
    dispose() {}
}
export enum LogLevel {
    Off = 0,
    Trace = 1,
    Debug = 2,
    Info = 3,
    Warning = 4,
    Error = 5,
}
export class TabInputText {}
export class TabInputTextDiff {}
export class TabInputCustom {}
export class TabInputNotebook {}
export class CodeAction {}
export class Diagnostic {}
export const CodeActionKind = new Proxy({} as Record<string, { value: string }>, { get: (_t, key) => ({ value: String(key) }) });
