import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { changedSettings, expandPath, needsRestart, readSettings, SETTINGS, toServerSettings } from '../src/common/settings';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const properties: Record<
    string,
    { type: string; default: unknown; description?: string; markdownDescription?: string; enum?: string[]; enumDescriptions?: string[] }
> = pkg.contributes.configuration.properties;

/**
 * The choices a description lists: two or more backticked words joined by commas, slashes or "or"
 * ("`auto`, `openai` or `local`", "`off`/`on`"). Paths, globs and commands in backticks don't count.
 */
function listedChoices(description: string): string[] {
    const list = /`[\w-]+`(?:\s*(?:,|\/|\bor\b|,\s*or\b)\s*`[\w-]+`)+/g;
    return [...description.matchAll(list)].flatMap((m) => [...m[0].matchAll(/`([\w-]+)`/g)].map((w) => w[1]));
}

describe('settings table vs package.json', () => {
    const editorOnly = ['trace.server'];

    it('has exactly the settings package.json contributes, with the same defaults', () => {
        const contributed = Object.keys(properties).map((k) => k.replace(/^editloop\./, '')).filter((k) => !editorOnly.includes(k));
        expect(contributed.sort()).toEqual(Object.keys(SETTINGS).sort());
        for (const [name, spec] of Object.entries(SETTINGS)) {
            expect(properties[`editloop.${name}`].default, name).toEqual(spec.default);
        }
    });

    it('offers editloop.rejectRemovesText, on by default (Reject deletes the text, as Copilot does)', () => {
        expect(properties['editloop.rejectRemovesText']).toMatchObject({ type: 'boolean', default: true });
        expect(readSettings(() => undefined).settings.rejectRemovesText).toBe(true);
        expect(readSettings((n) => (n === 'rejectRemovesText' ? false : undefined)).settings.rejectRemovesText).toBe(false);
    });

    it('describes every setting', () => {
        for (const [name, prop] of Object.entries(properties)) {
            expect((prop.markdownDescription ?? prop.description ?? '').length, name).toBeGreaterThan(20);
        }
    });

    it('makes every string setting with fixed choices an enum, each choice described', () => {
        // Fixed choices: the description lists them, or the default is a keyword (`auto`, `off`), not a path or URL.
        const keyword = /^[a-z][a-zA-Z]*$/;
        const withChoices = Object.entries(properties).filter(
            ([, p]) => p.type === 'string' && (listedChoices(p.markdownDescription ?? p.description ?? '').length >= 2 || keyword.test(String(p.default))),
        );
        expect(withChoices.map(([name]) => name).sort()).toEqual(['editloop.generation.backend', 'editloop.trace.server']);
        for (const [name, p] of withChoices) {
            expect(p.enum, name).toBeDefined();
            expect(p.enum, name).toContain(p.default);
            for (const choice of listedChoices(p.markdownDescription ?? p.description ?? '')) {
                expect(p.enum, `${name}: ${choice}`).toContain(choice);
            }
        }
        for (const [name, p] of Object.entries(properties).filter(([, p]) => p.enum)) {
            expect(p.enumDescriptions?.length, name).toBe(p.enum!.length);
            p.enumDescriptions!.forEach((d) => expect(d.length, name).toBeGreaterThan(10));
        }
    });

    it('parses enum settings with the same choices package.json offers', () => {
        for (const [name, spec] of Object.entries(SETTINGS)) {
            const choices = (spec as { choices?: readonly unknown[] }).choices;
            expect(choices, name).toEqual(properties[`editloop.${name}`].enum);
        }
        const { settings, problems } = readSettings((name) => (name === 'generation.backend' ? 'ollama' : undefined));
        expect(settings['generation.backend']).toBe('auto');
        expect(problems).toEqual(['editloop.generation.backend: invalid value "ollama", using "auto"']);
    });

    it('finds listed choices in descriptions, and not paths or commands', () => {
        expect(listedChoices('Which backend: `auto`, `openai` (the endpoint) or `local`.')).toEqual(['auto', 'openai']);
        expect(listedChoices('One of `auto`, `openai` or `local`.')).toEqual(['auto', 'openai', 'local']);
        expect(listedChoices('`off`/`on`')).toEqual(['off', 'on']);
        expect(listedChoices('Empty: `python3` on `PATH`. `~` and `${workspaceFolder}` are expanded.')).toEqual([]);
    });

    it('every default parses as valid', () => {
        for (const [name, spec] of Object.entries(SETTINGS)) {
            expect((spec.parse as (v: unknown) => unknown)(spec.default), name).toEqual(spec.default);
        }
    });
});

describe('readSettings', () => {
    it('uses defaults for unset values', () => {
        const { settings, problems } = readSettings(() => undefined);
        expect(settings['generation.endpoint']).toBe('http://localhost:11434/v1');
        expect(settings.survivalSeconds).toEqual([30, 120, 300, 600]);
        expect(settings.redactSecrets).toBe(true);
        expect(settings['training.auto']).toBe(false);
        expect(problems).toEqual([]);
    });

    it('reports invalid values and falls back to the default', () => {
        const values: Record<string, unknown> = {
            'training.threads': -1,
            survivalSeconds: ['soon'],
            redactSecrets: 'yes',
            'generation.retrieval': 3,
            'reward.halfLifeDays': -1,
            python: '  /opt/py/bin/python  ',
        };
        const { settings, problems } = readSettings((name) => values[name]);
        expect(settings['training.threads']).toBe(0);
        expect(settings.survivalSeconds).toEqual([30, 120, 300, 600]);
        expect(settings.redactSecrets).toBe(true);
        expect(settings['reward.halfLifeDays']).toBe(30);
        expect(settings['generation.retrieval']).toBe(3);
        expect(settings.python).toBe('/opt/py/bin/python');
        expect(problems).toHaveLength(4);
        expect(problems.join('\n')).toContain('editloop.training.threads');
    });
});

describe('toServerSettings', () => {
    it('nests dotted names the way VS Code shows the editloop section', () => {
        const { settings } = readSettings((name) => (name === 'generation.model' ? 'llama3' : undefined));
        const out = toServerSettings(settings) as any;
        expect(out.generation).toEqual({ endpoint: 'http://localhost:11434/v1', model: 'llama3', backend: 'auto', retrieval: 0, inline: false, retryInvalid: true });
        expect(out.training).toEqual({ baseModel: '', auto: false, threads: 0 });
        expect(out.reward).toEqual({ halfLifeDays: 30 });
        expect(out.exclude).toContain('**/.env');
        expect(out.python).toBe('');
        expect(Object.keys(out)).not.toContain('generation.model');
    });
});

describe('restart decisions', () => {
    const base = readSettings(() => undefined).settings;

    it('restarts for python and dataDir only', () => {
        const next = { ...base, python: '/usr/bin/python3.12' };
        expect(changedSettings(base, next)).toEqual(['python']);
        expect(needsRestart(changedSettings(base, next))).toBe(true);
        expect(needsRestart(changedSettings(base, { ...base, dataDir: '/data' }))).toBe(true);
        const soft = { ...base, 'generation.model': 'x', exclude: ['**/*.log'] };
        expect(changedSettings(base, soft).sort()).toEqual(['exclude', 'generation.model']);
        expect(needsRestart(changedSettings(base, soft))).toBe(false);
        expect(changedSettings(base, { ...base })).toEqual([]);
    });
});

describe('expandPath', () => {
    it('expands ~, ${userHome} and ${workspaceFolder}', () => {
        const vars = { home: '/home/u', workspaceFolder: '/w' };
        expect(expandPath('~/venv/bin/python', vars)).toBe('/home/u/venv/bin/python');
        expect(expandPath('${workspaceFolder}/.venv/bin/python', vars)).toBe('/w/.venv/bin/python');
        expect(expandPath('${userHome}/x', vars)).toBe('/home/u/x');
        expect(expandPath('/abs/~x', vars)).toBe('/abs/~x');
        expect(expandPath('${workspaceFolder}/p', { home: '/h' })).toBe('${workspaceFolder}/p');
    });
});
