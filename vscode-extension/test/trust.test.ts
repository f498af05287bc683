/**
 * Workspace Trust: which layers of the restricted settings count in a trusted and an untrusted
 * workspace, what package.json declares, and what the server does when trust is granted.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { currentSettings, EditloopServer } from '../src/common/server';
import { Inspected, readSettings, RESTRICTED_SETTINGS, restrictedValue, SETTINGS, settingReader } from '../src/common/settings';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const mock = vscode as unknown as {
    workspace: { isTrusted: boolean; getConfiguration: () => unknown };
    trustGranted: { fire(): void };
};

const DEFAULT_EXCLUDE = SETTINGS.exclude.default;

/** A repository's .vscode/settings.json pointing everything elsewhere, over a user's own settings. */
const layers: Record<string, Inspected> = {
    python: { defaultValue: '', globalValue: '/home/u/py/bin/python', workspaceValue: '${workspaceFolder}/.venv/bin/python' },
    dataDir: { defaultValue: '', workspaceValue: '/tmp/collect' },
    exclude: { defaultValue: DEFAULT_EXCLUDE, workspaceValue: ['**/generated/**'], workspaceFolderValue: ['**/*.lock', '**/.env'] },
    'training.baseModel': { defaultValue: '', globalValue: '/models/mine', workspaceFolderValue: 'evil/model' },
    'generation.endpoint': { defaultValue: 'http://localhost:11434/v1', workspaceValue: 'https://collector.example.com/v1' },
    redactSecrets: { defaultValue: true, workspaceValue: false },
    'generation.model': { defaultValue: '', workspaceValue: 'llama3' },
};

function fakeConfig(values: Record<string, Inspected>) {
    return {
        // What VS Code's get() would answer without trust gating: the most specific layer.
        get: (name: string) => {
            const l = values[name] ?? {};
            return l.workspaceFolderValue ?? l.workspaceValue ?? l.globalValue ?? l.defaultValue;
        },
        inspect: (name: string) => values[name],
    };
}

describe('restrictedValue', () => {
    it('untrusted: the user value, else the default; never a workspace or folder value', () => {
        expect(restrictedValue('python', layers.python, false)).toBe('/home/u/py/bin/python');
        expect(restrictedValue('dataDir', layers.dataDir, false)).toBe('');
        expect(restrictedValue('exclude', layers.exclude, false)).toEqual(DEFAULT_EXCLUDE);
        expect(restrictedValue('training.baseModel', layers['training.baseModel'], false)).toBe('/models/mine');
        expect(restrictedValue('generation.endpoint', layers['generation.endpoint'], false)).toBe('http://localhost:11434/v1');
        expect(restrictedValue('redactSecrets', layers.redactSecrets, false)).toBe(true);
        expect(restrictedValue('dataDir', undefined, false)).toBeUndefined();
    });

    it('trusted: folder over workspace over user over default', () => {
        expect(restrictedValue('python', layers.python, true)).toBe('${workspaceFolder}/.venv/bin/python');
        expect(restrictedValue('dataDir', layers.dataDir, true)).toBe('/tmp/collect');
        expect(restrictedValue('training.baseModel', layers['training.baseModel'], true)).toBe('evil/model');
        expect(restrictedValue('generation.endpoint', layers['generation.endpoint'], true)).toBe('https://collector.example.com/v1');
        expect(restrictedValue('redactSecrets', layers.redactSecrets, true)).toBe(false);
    });

    it('trusted: a workspace adds exclude patterns and cannot remove the user\'s', () => {
        expect(restrictedValue('exclude', layers.exclude, true)).toEqual([...DEFAULT_EXCLUDE, '**/generated/**', '**/*.lock']);
        const user = { defaultValue: DEFAULT_EXCLUDE, globalValue: ['**/private/**'], workspaceValue: [] };
        expect(restrictedValue('exclude', user, true)).toEqual(['**/private/**']);
        // A malformed workspace value is passed on, so readSettings reports it and uses the default.
        const bad = { defaultValue: DEFAULT_EXCLUDE, workspaceValue: '**/x' };
        const { settings, problems } = readSettings((name) => (name === 'exclude' ? restrictedValue('exclude', bad, true) : undefined));
        expect(settings.exclude).toEqual(DEFAULT_EXCLUDE);
        expect(problems.join()).toContain('editloop.exclude');
    });
});

describe('settingReader + readSettings', () => {
    it('untrusted: only the user decides the restricted settings; the others follow VS Code', () => {
        const { settings } = readSettings(settingReader(fakeConfig(layers), false));
        expect(settings.python).toBe('/home/u/py/bin/python');
        expect(settings.dataDir).toBe('');
        expect(settings.exclude).toEqual(DEFAULT_EXCLUDE);
        expect(settings['training.baseModel']).toBe('/models/mine');
        expect(settings['generation.endpoint']).toBe('http://localhost:11434/v1');
        expect(settings.redactSecrets).toBe(true);
        expect(settings['generation.model']).toBe('llama3'); // not restricted
    });

    it('trusted: the workspace values apply', () => {
        const { settings } = readSettings(settingReader(fakeConfig(layers), true));
        expect(settings['generation.endpoint']).toBe('https://collector.example.com/v1');
        expect(settings.dataDir).toBe('/tmp/collect');
        expect(settings.exclude).toContain('**/generated/**');
        expect(settings.exclude).toContain('**/.env');
    });
});

describe('package.json', () => {
    it('declares limited support in untrusted workspaces, restricting exactly RESTRICTED_SETTINGS', () => {
        const trust = pkg.capabilities.untrustedWorkspaces;
        expect(trust.supported).toBe('limited');
        expect(trust.description.length).toBeGreaterThan(40);
        expect(trust.restrictedConfigurations).toEqual(RESTRICTED_SETTINGS.map((n) => `editloop.${n}`));
        for (const name of ['editloop.python', 'editloop.dataDir', 'editloop.exclude', 'editloop.training.baseModel', 'editloop.generation.endpoint']) {
            expect(trust.restrictedConfigurations).toContain(name);
            expect(pkg.contributes.configuration.properties).toHaveProperty([name]);
        }
    });

    it('keeps the interpreter and data folder machine-overridable, as python.defaultInterpreterPath is', () => {
        const props = pkg.contributes.configuration.properties;
        expect(props['editloop.python'].scope).toBe('machine-overridable');
        expect(props['editloop.dataDir'].scope).toBe('machine-overridable');
    });
});

describe('the extension in an untrusted, then trusted, workspace', () => {
    const original = { ...mock.workspace };
    afterEach(() => {
        Object.assign(mock.workspace, original);
        vi.useRealTimers();
    });

    it('currentSettings ignores the workspace layers until the workspace is trusted', () => {
        mock.workspace.getConfiguration = () => fakeConfig(layers);
        mock.workspace.isTrusted = false;
        expect(currentSettings()['generation.endpoint']).toBe('http://localhost:11434/v1');
        mock.workspace.isTrusted = true;
        expect(currentSettings()['generation.endpoint']).toBe('https://collector.example.com/v1');
    });

    it('re-reads the settings and restarts the server when trust is granted', async () => {
        vi.useFakeTimers();
        mock.workspace.getConfiguration = () => fakeConfig(layers);
        mock.workspace.isTrusted = false;
        const srv = new EditloopServer({ onProgressCreate: () => undefined, onProgressClear: () => undefined });
        const restart = vi.spyOn(srv, 'restart').mockResolvedValue();
        const seen: string[] = [];
        srv.onDidChangeSettings((s) => seen.push(s['generation.endpoint']));
        expect(srv.settingsInUse.dataDir).toBe('');

        mock.workspace.isTrusted = true;
        mock.trustGranted.fire();
        expect(srv.settingsInUse.dataDir).toBe('/tmp/collect');
        expect(seen).toEqual(['https://collector.example.com/v1']);
        expect(restart).not.toHaveBeenCalled(); // debounced with the configuration change VS Code sends too
        await vi.advanceTimersByTimeAsync(1100);
        expect(restart).toHaveBeenCalledTimes(1);
        restart.mockRestore();
        srv.dispose();
    });
});
