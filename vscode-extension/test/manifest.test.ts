import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { registerCommands } from '../src/commands';
import { ServerCommand } from '../src/common/protocol';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const contributed: { command: string; title: string; category: string }[] = pkg.contributes.commands;

describe('package.json', () => {
    it('is the Editloop extension', () => {
        expect(pkg.name).toBe('editloop');
        expect(pkg.displayName).toBe('Editloop');
        expect(pkg.engines.vscode).toBe('^1.91.0');
        expect(pkg.main).toBe('./dist/extension.js');
    });

    it('puts every command in the Editloop category with an editloop. id', () => {
        for (const c of contributed) {
            expect(c.category).toBe('Editloop');
            expect(c.command.startsWith('editloop.')).toBe(true);
        }
        const titles = contributed.map((c) => c.title);
        for (const t of ['Generate', 'Mark Selection as AI Output', 'Accept', 'Reject', 'Train Now', 'Cancel Training', 'Show Stats', 'Export Dataset', 'Forget This File', 'Restart Server']) {
            expect(titles).toContain(t);
        }
    });

    it('registers exactly the contributed commands, using the server ids where the server has one', () => {
        const registered = (vscode as unknown as { registeredCommands: string[] }).registeredCommands;
        const disposables = registerCommands({ server: {} as never, store: {} as never, runs: {} as never, panel: {} as never, memento: {} as never });
        expect([...registered].sort()).toEqual(contributed.map((c) => c.command).sort());
        for (const id of ['track', 'generate', 'accept', 'reject', 'train', 'cancel', 'export', 'forget', 'stats'] as const) {
            expect(registered).toContain(ServerCommand[id]);
        }
        disposables.forEach((d) => d.dispose());
        expect(registered).toEqual([]);
    });

    it('binds Accept and Reject keys only when a tracked region is under the cursor', () => {
        const keys: { command: string; when: string }[] = pkg.contributes.keybindings;
        expect(keys.map((k) => k.command).sort()).toEqual(['editloop.accept', 'editloop.reject']);
        keys.forEach((k) => expect(k.when).toContain('editloop.regionAtCursor'));
    });

    it('contributes the stats webview view in its own activity-bar container', () => {
        expect(pkg.contributes.viewsContainers.activitybar[0].id).toBe('editloop');
        expect(pkg.contributes.views.editloop[0]).toMatchObject({ type: 'webview', id: 'editloop.statsView' });
    });

    it('gives the container a monochrome 24x24 icon that follows the theme colour', () => {
        const svg = readFileSync(new URL(`../${pkg.contributes.viewsContainers.activitybar[0].icon}`, import.meta.url), 'utf8');
        expect(svg).toContain('viewBox="0 0 24 24"');
        expect(svg).toContain('stroke="currentColor"');
        expect(svg).not.toMatch(/#[0-9a-f]{3,8}\b|rgb\(|<image|<text/i);
    });
});
