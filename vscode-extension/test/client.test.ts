import { describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { EditloopClient, ServerCommandsFeature, ServerProgressFeature } from '../src/common/client';
import { featureMethod, isReplacedBuiltin } from '../src/common/featureFilter';

type Internals = { _features: { getState(): { kind: string; id?: string } }[] };

function methods(client: EditloopClient): string[] {
    return (client as unknown as Internals)._features.map((f) => featureMethod(f as never) ?? '?');
}

describe('EditloopClient', () => {
    const make = () => new EditloopClient({ command: 'python3', args: ['-m', 'editloop', 'serve'] }, { documentSelector: [{ scheme: 'file' }] });

    it("drops vscode-languageclient's executeCommand and progress features, keeps the rest", () => {
        const client = make();
        const ms = methods(client);
        expect(ms).not.toContain('workspace/executeCommand');
        expect(ms).not.toContain('window/workDoneProgress/create');
        expect(ms).toContain('textDocument/codeLens');
        expect(ms).toContain('textDocument/hover');
        expect(ms).toContain('textDocument/didChange');
    });

    it('accepts its own replacements', () => {
        const client = make();
        client.registerFeature(new ServerCommandsFeature());
        client.registerFeature(new ServerProgressFeature(client, () => undefined, () => undefined));
        const ms = methods(client);
        expect(ms.filter((m) => m === 'workspace/executeCommand')).toHaveLength(1);
        expect(ms.filter((m) => m === 'window/workDoneProgress/create')).toHaveLength(1);
    });

    it('records advertised server commands without registering VS Code commands (no id clash)', () => {
        const before = [...(vscode as unknown as { registeredCommands: string[] }).registeredCommands];
        const feature = new ServerCommandsFeature();
        feature.initialize({ executeCommandProvider: { commands: ['editloop.accept', 'editloop.stats'] } });
        feature.register({ id: 'dyn', registerOptions: { commands: ['editloop.train'] } });
        expect([...feature.commands()].sort()).toEqual(['editloop.accept', 'editloop.stats', 'editloop.train']);
        feature.unregister('dyn');
        expect(feature.commands().has('editloop.train')).toBe(false);
        expect((vscode as unknown as { registeredCommands: string[] }).registeredCommands).toEqual(before);
        const caps: Record<string, any> = {};
        feature.fillClientCapabilities(caps);
        expect(caps.workspace.executeCommand.dynamicRegistration).toBe(true);
    });
});

describe('featureFilter', () => {
    it('identifies features by registration type or state id', () => {
        expect(isReplacedBuiltin({ registrationType: { method: 'workspace/executeCommand' }, getState: () => ({ kind: 'workspace' }) })).toBe(true);
        expect(isReplacedBuiltin({ getState: () => ({ kind: 'window', id: 'window/workDoneProgress/create' }) })).toBe(true);
        expect(isReplacedBuiltin({ registrationType: { method: 'textDocument/codeLens' }, getState: () => ({ kind: 'document' }) })).toBe(false);
        expect(isReplacedBuiltin({ getState: () => ({ kind: 'static' }) })).toBe(false);
        expect(isReplacedBuiltin({ getState: () => { throw new Error('x'); } })).toBe(false);
    });
});
