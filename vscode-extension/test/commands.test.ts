/**
 * The palette commands against a fake server and fake documents: Reject removes the region's text
 * (after the server recorded the reject, only when the text is still what the server saw),
 * Generate names the model that wrote the text and asks for an artifact type only when the server
 * cannot infer it (remembering the answer per file), Mark Selection names no region ids.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { registerCommands } from '../src/commands';
import { REMEMBERED_KEY } from '../src/common/artifactType';
import { RegionStore } from '../src/common/regions';
import { readSettings, Settings } from '../src/common/settings';
import type * as Mock from './mocks/vscode';

const mock = vscode as unknown as typeof Mock;
const defaults = readSettings(() => undefined).settings;

/** A text document over a string, with LSP-style line/character positions. */
class FakeDocument {
    readonly uri: Mock.Uri;
    constructor(
        uri: string,
        readonly languageId: string,
        public text: string,
    ) {
        this.uri = mock.Uri.parse(uri);
    }
    offsetAt(p: { line: number; character: number }): number {
        const lines = this.text.split('\n');
        let offset = 0;
        for (let i = 0; i < p.line && i < lines.length; i++) {
            offset += lines[i].length + 1;
        }
        return Math.min(this.text.length, offset + p.character);
    }
    getText(range?: Mock.Range): string {
        return range ? this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
    }
}

type Handler = (arg: Record<string, unknown>) => unknown;

/** A server that answers from `handlers` and logs each command; `log` is shared with applyEdit. */
function fakeServer(handlers: Record<string, Handler>, log: string[], settings: Partial<Settings> = {}) {
    const calls: { command: string; arg: Record<string, unknown> }[] = [];
    return {
        calls,
        settingsInUse: { ...defaults, ...settings },
        async execute(command: string, arg: Record<string, unknown>) {
            calls.push({ command, arg });
            log.push(command);
            const handler = handlers[command];
            if (!handler) {
                throw new Error(`unexpected ${command}`);
            }
            return handler(arg);
        },
    };
}

class Memento {
    readonly values = new Map<string, unknown>();
    get<T>(key: string, fallback?: T): T | undefined {
        return (this.values.has(key) ? this.values.get(key) : fallback) as T | undefined;
    }
    async update(key: string, value: unknown): Promise<void> {
        this.values.set(key, value);
    }
}

let disposables: { dispose(): void }[] = [];
let messages: string[] = [];
let errors: string[] = [];
let log: string[] = [];
let quickPicks: { items: { id: string; label: string; description: string }[]; answer: number | undefined }[] = [];
let inputs: (string | undefined)[] = [];
let pickAnswers: (number | undefined)[] = [];

function setup(server: ReturnType<typeof fakeServer>, document: FakeDocument, cursorLine = 0) {
    const workspaceState = new Memento();
    disposables = registerCommands({
        server: server as never,
        store: new RegionStore(),
        runs: {} as never,
        panel: { scheduleRefresh() {} } as never,
        memento: new Memento() as never,
        workspaceState: workspaceState as never,
    });
    const selection = new mock.Selection(cursorLine, 0, cursorLine, 0);
    mock.window.activeTextEditor = { document, selection };
    mock.workspace.textDocuments = [document];
    mock.workspace.applyEdit = async (edit: Mock.WorkspaceEdit) => {
        log.push('applyEdit');
        // Back to front, so earlier offsets stay valid.
        for (const e of [...edit.edits].reverse()) {
            const doc = (mock.workspace.textDocuments as FakeDocument[]).find((d) => d.uri.toString() === e.uri.toString())!;
            doc.text = doc.text.slice(0, doc.offsetAt(e.range.start)) + e.newText + doc.text.slice(doc.offsetAt(e.range.end));
        }
        return true;
    };
    return { workspaceState };
}

async function run(id: string, ...args: unknown[]) {
    await mock.commandHandlers.get(id)!(...args);
}

beforeEach(() => {
    messages = [];
    errors = [];
    log = [];
    quickPicks = [];
    inputs = [];
    pickAnswers = [];
    mock.window.setStatusBarMessage = ((m: string) => (messages.push(m), new mock.Disposable())) as never;
    mock.window.showInformationMessage = (async (m: string) => void messages.push(m)) as never;
    mock.window.showErrorMessage = (async (m: string) => void errors.push(m)) as never;
    mock.window.showInputBox = async () => inputs.shift();
    mock.window.showQuickPick = (async (items: { id: string; label: string; description: string }[]) => {
        const answer = pickAnswers.shift();
        quickPicks.push({ items, answer });
        return answer === undefined ? undefined : items[answer];
    }) as never;
});

afterEach(() => {
    expect(errors, 'no command failed').toEqual([]);
    disposables.forEach((d) => d.dispose());
    mock.window.activeTextEditor = undefined;
    mock.workspace.textDocuments = [];
});

describe('Reject', () => {
    const uri = 'file:///w/model.mmd';
    const text = 'erDiagram\n    CUSTOMER {\n        string name\n    }\nORDER\n';
    const region = {
        id: 'r1',
        uri,
        status: 'pending',
        range: { start: { line: 1, character: 0 }, end: { line: 4, character: 0 } },
        original: '    CUSTOMER {\n        string name\n    }\n',
        current: '    CUSTOMER {\n        string name\n    }\n',
    };
    const rejected = () => ({ eventId: 1, action: 'reject', reward: -1 });

    it('removes the region text with one undoable edit, after the server recorded the reject', async () => {
        const doc = new FakeDocument(uri, 'plaintext', text);
        const server = fakeServer({ 'editloop.region': () => region, 'editloop.reject': rejected }, log);
        setup(server, doc);
        await run('editloop.reject', { regionId: 'r1' });
        // The region is read while pending, then rejected, then its text is deleted.
        expect(log).toEqual(['editloop.region', 'editloop.reject', 'applyEdit']);
        expect(server.calls.map((c) => c.arg)).toEqual([{ regionId: 'r1' }, { regionId: 'r1' }]);
        expect(doc.text).toBe('erDiagram\nORDER\n');
        expect(messages).toEqual(['Editloop: rejected, and its text removed (Undo brings it back).']);
        expect(errors).toEqual([]);
    });

    it('leaves the text when it changed since the server reported it', async () => {
        const doc = new FakeDocument(uri, 'plaintext', text.replace('name', 'title'));
        const server = fakeServer({ 'editloop.region': () => region, 'editloop.reject': rejected }, log);
        setup(server, doc);
        await run('editloop.reject', { regionId: 'r1' });
        expect(log).toEqual(['editloop.region', 'editloop.reject']);
        expect(doc.text).toContain('string title');
        expect(messages).toEqual(['Editloop: rejected.']);
    });

    it('with editloop.rejectRemovesText off, only records the reject', async () => {
        const doc = new FakeDocument(uri, 'plaintext', text);
        const server = fakeServer({ 'editloop.reject': rejected }, log, { rejectRemovesText: false });
        setup(server, doc);
        await run('editloop.reject', { regionId: 'r1' });
        expect(log).toEqual(['editloop.reject']);
        expect(doc.text).toBe(text);
    });

    it('still rejects when the region cannot be read, and deletes nothing for a region no longer pending', async () => {
        const doc = new FakeDocument(uri, 'plaintext', text);
        const failing = fakeServer({ 'editloop.region': () => Promise.reject(new Error('unknown region')), 'editloop.reject': rejected }, log);
        setup(failing, doc);
        await run('editloop.reject', { regionId: 'r1' });
        expect(log).toEqual(['editloop.region', 'editloop.reject']);
        disposables.forEach((d) => d.dispose());
        log = [];
        const resolved = fakeServer({ 'editloop.region': () => ({ ...region, status: 'accepted' }), 'editloop.reject': rejected }, log);
        setup(resolved, doc);
        await run('editloop.reject', { regionId: 'r1' });
        expect(log).toEqual(['editloop.region', 'editloop.reject']);
        expect(doc.text).toBe(text);
        expect(errors).toEqual([]);
    });
});

describe('Generate', () => {
    const generated = (extra: Record<string, unknown> = {}) => () => ({
        regionId: 'r83452fb349f54b12',
        text: 'erDiagram\n',
        model: 'editloop-default',
        modelVersion: '20261203-140501-eb4e90',
        retry: '',
        ...extra,
    });

    it('in a .mmd file, lets the server infer the type (no question) and says which run wrote the text', async () => {
        const doc = new FakeDocument('file:///w/new.mmd', 'plaintext', '');
        const server = fakeServer({ 'editloop.generate': generated() }, log);
        setup(server, doc);
        inputs = ['an ER diagram of orders'];
        await run('editloop.generate');
        expect(quickPicks).toEqual([]);
        expect(server.calls[0].arg).toEqual({ uri: 'file:///w/new.mmd', position: { line: 0, character: 0 }, prompt: 'an ER diagram of orders' });
        expect(messages).toEqual(['Editloop: written by run of 12-03 14:05 (…eb4e90); edit it, then Accept or Reject.']);
        expect(messages.join()).not.toContain('r83452fb349f54b12');
    });

    it('names the base model and says when the text is a retry', async () => {
        const doc = new FakeDocument('file:///w/s.py', 'python', '');
        const server = fakeServer({ 'editloop.generate': generated({ modelVersion: 'base', retry: 'base' }) }, log);
        setup(server, doc);
        inputs = ['a dataclass'];
        await run('editloop.generate');
        expect(quickPicks).toEqual([]);
        expect(messages).toEqual(['Editloop: written by the base model (editloop-default) on a retry (the trained model’s output was not valid); edit it, then Accept or Reject.']);
    });

    it('does not ask in Markdown with a mermaid fence; asks in Markdown without one', async () => {
        const fenced = new FakeDocument('file:///w/README.md', 'markdown', '# Schema\n\n```mermaid\nerDiagram\n```\n');
        let server = fakeServer({ 'editloop.generate': generated() }, log);
        setup(server, fenced);
        inputs = ['orders'];
        await run('editloop.generate');
        expect(quickPicks).toEqual([]);
        expect(server.calls[0].arg).not.toHaveProperty('artifactType');
        disposables.forEach((d) => d.dispose());

        const notes = new FakeDocument('file:///w/notes.md', 'markdown', '# Notes\n');
        server = fakeServer({ 'editloop.generate': generated() }, log);
        setup(server, notes);
        inputs = ['orders'];
        pickAnswers = [undefined]; // dismissed: nothing is generated
        await run('editloop.generate');
        expect(quickPicks).toHaveLength(1);
        expect(server.calls).toEqual([]);
    });

    it('where it must ask, remembers the answer per file and offers it first next time', async () => {
        const rust = new FakeDocument('file:///w/schema.rs', 'rust', '');
        const server = fakeServer({ 'editloop.generate': generated() }, log);
        const { workspaceState } = setup(server, rust);
        inputs = ['a class diagram'];
        pickAnswers = [4]; // 0 "Let the server decide", 1-4 Mermaid ER, flowchart, sequence, class
        await run('editloop.generate');
        const first = quickPicks[0].items;
        expect(first[0].id).toBe('auto');
        expect(first[4].id).toBe('mermaid-class');
        expect(server.calls[0].arg.artifactType).toBe('mermaid-class');
        expect(workspaceState.values.get(REMEMBERED_KEY)).toEqual({ 'file:///w/schema.rs': 'mermaid-class' });

        inputs = ['another one'];
        pickAnswers = [0]; // Enter: the first entry, the last answer
        await run('editloop.generate');
        const second = quickPicks[1].items;
        expect(second[0]).toMatchObject({ id: 'mermaid-class', description: 'mermaid-class · your last answer for this file' });
        expect(second.filter((i) => i.id === 'mermaid-class')).toHaveLength(1);
        expect(server.calls[1].arg.artifactType).toBe('mermaid-class');

        // Another file does not get this file's answer first; "Let the server decide" sends no type.
        mock.window.activeTextEditor = { document: new FakeDocument('file:///w/other.rs', 'rust', ''), selection: new mock.Selection(0, 0, 0, 0) };
        inputs = ['x'];
        pickAnswers = [0];
        await run('editloop.generate');
        expect(quickPicks[2].items[0].id).toBe('auto');
        expect(server.calls[2].arg).not.toHaveProperty('artifactType');
    });
});

describe('Mark Selection as AI Output', () => {
    it('in a .mmd file, sends the diagram type without asking and says the canonical type, no region id', async () => {
        const doc = new FakeDocument('file:///w/model.mmd', 'plaintext', 'erDiagram\n    CUSTOMER {\n        string name\n    }\n');
        const server = fakeServer({ 'editloop.track': () => ({ regionId: 'r83452fb349f54b12', artifactType: 'mermaid-erd' }) }, log);
        setup(server, doc);
        mock.window.activeTextEditor = { document: doc, selection: new mock.Selection(1, 0, 4, 0) };
        inputs = ['orders', 'gpt-4o'];
        await run('editloop.track');
        expect(quickPicks).toEqual([]);
        expect(server.calls[0].arg).toMatchObject({ artifactType: 'mermaid-erd', language: 'plaintext', model: 'gpt-4o', prompt: 'orders' });
        expect(messages).toEqual(['Editloop: tracking the selection as mermaid-erd output; edit it, then Accept or Reject.']);
    });
});
