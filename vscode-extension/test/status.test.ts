/** The stats status item's tooltip: where generation sends text, the data folder, Restricted Mode. */
import { describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { describeGeneration, generationTarget, isLoopbackHost } from '../src/common/endpoint';
import { readSettings, Settings } from '../src/common/settings';
import { statsTooltip, StatsStatusBar } from '../src/views/status';

const defaults = readSettings(() => undefined).settings;
const withSettings = (over: Partial<Settings>): Settings => ({ ...defaults, ...over });
const stats = { pending: 2, total: 49, keptRate: 0.98, unchangedRate: 0, dataDir: '/home/u/.local/share/editloop' };

describe('isLoopbackHost', () => {
    it('knows the names that always mean this machine', () => {
        for (const host of ['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '127.1.2.3', '[::1]', '[::ffff:7f00:1]']) {
            expect(isLoopbackHost(host), host).toBe(true);
        }
        for (const host of ['192.168.1.5', 'api.openai.com', 'localhost.example.com', '10.0.0.1', '[::2]', '0x7f000001.evil']) {
            expect(isLoopbackHost(host), host).toBe(false);
        }
        // WHATWG URL normalises other spellings of 127.0.0.1 before the check.
        expect(isLoopbackHost(new URL('http://0x7f.1:8080/v1').hostname)).toBe(true);
    });
});

describe('generationTarget', () => {
    it('follows the server: auto means the endpoint only when a model name is set', () => {
        expect(generationTarget(defaults)).toEqual({ kind: 'local-model' });
        expect(generationTarget(withSettings({ 'generation.backend': 'local', 'generation.model': 'llama3' }))).toEqual({ kind: 'local-model' });
        expect(generationTarget(withSettings({ 'generation.model': 'llama3' }))).toMatchObject({ kind: 'endpoint', onThisMachine: true, host: 'localhost:11434' });
        expect(generationTarget(withSettings({ 'generation.backend': 'openai' }))).toMatchObject({ kind: 'endpoint', model: '' });
        expect(generationTarget(withSettings({ 'generation.backend': 'openai', 'generation.endpoint': 'file:///etc/passwd' }))).toEqual({
            kind: 'invalid',
            endpoint: 'file:///etc/passwd',
        });
    });
});

describe('statsTooltip', () => {
    it('says when nothing leaves the machine, and names the data folder the server reports', () => {
        const tip = statsTooltip(stats, { settings: defaults, trusted: true });
        expect(tip.split('\n')).toEqual([
            'Editloop: 2 AI regions awaiting an outcome.',
            'Of 49 AI outputs with an outcome: kept 98% · unchanged 0%.',
            'Kept: AI outputs you kept, as written or after editing them (not rejected); unchanged: kept exactly as written.',
            'Generation: the local model on this machine; no text is sent anywhere.',
            'Data folder: /home/u/.local/share/editloop',
            'Click for stats.',
        ]);
        const local = statsTooltip(stats, { settings: withSettings({ 'generation.model': 'llama3' }), trusted: true });
        expect(local).toContain('Generation: http://localhost:11434/v1 (model llama3), on this machine; no text leaves it.');
    });

    it('names the remote host that receives prompts, document text and past corrections', () => {
        const remote = withSettings({
            'generation.backend': 'openai',
            'generation.endpoint': 'https://api.example.com/v1',
            'generation.model': 'gpt-x',
            'generation.inline': true,
            'generation.retrieval': 3,
        });
        expect(statsTooltip(stats, { settings: remote, trusted: true })).toContain(
            'Generation: https://api.example.com/v1 (model gpt-x): prompts, the text before the cursor (inline completions) and up to 3 past corrections are sent to api.example.com, another machine.',
        );
        const lan = withSettings({ 'generation.model': 'm', 'generation.endpoint': 'http://192.168.1.5:8000/v1' });
        expect(describeGeneration(generationTarget(lan))).toBe(
            'Generation: http://192.168.1.5:8000/v1 (model m): prompts are sent to 192.168.1.5:8000, another machine, unencrypted (http).',
        );
    });

    it('falls back to the dataDir setting, then the default, and explains Restricted Mode', () => {
        const noDir = { pending: 1, total: 0, keptRate: null, unchangedRate: null };
        expect(statsTooltip(noDir, { settings: withSettings({ dataDir: '~/el' }), trusted: true })).toContain('Data folder: ~/el');
        const tip = statsTooltip(noDir, { settings: defaults, trusted: false });
        expect(tip).toContain('1 AI region awaiting an outcome.\nNo outcome recorded yet.');
        expect(tip).not.toContain('kept');
        expect(tip).toContain("Data folder: the server's default (EDITLOOP_HOME or the user data folder)");
        expect(tip).toContain(
            "Restricted Mode: this workspace's values of editloop.python, editloop.dataDir, editloop.exclude, editloop.training.baseModel, editloop.generation.endpoint, editloop.redactSecrets are ignored; yours apply.",
        );
    });
});

describe('StatsStatusBar', () => {
    it('shows the counts and puts the tooltip on the item; hides when stats fail', async () => {
        const items = (vscode as unknown as { statusBarItems: { text: string; tooltip?: string; visible: boolean }[] }).statusBarItems;
        let fail = false;
        const bar = new StatsStatusBar(
            async () => {
                if (fail) {
                    throw new Error('not running');
                }
                return { pending: 2, total: 49, counts: { accept: 0, edit: 48, reject: 1 }, acceptRate: 0, unchangedRate: 0, keptRate: 0.9796, dataDir: '/data/el' };
            },
            () => ({ settings: withSettings({ 'generation.model': 'm', 'generation.endpoint': 'https://h.example/v1' }), trusted: false }),
        );
        const item = items[items.length - 1];
        await bar.refresh();
        expect(item.visible).toBe(true);
        // The share a user means by "accepted": kept, with or without edits; never a bare "0%".
        expect(item.text).toBe('$(feedback) 2 pending · kept 98%');
        expect(item.tooltip).toContain('Of 49 AI outputs with an outcome: kept 98% · unchanged 0%.');
        expect(item.tooltip).toContain('sent to h.example, another machine.');
        expect(item.tooltip).toContain('Data folder: /data/el');
        expect(item.tooltip).toContain('Restricted Mode:');
        fail = true;
        await bar.refresh();
        expect(item.visible).toBe(false);
        bar.dispose();
    });
});
