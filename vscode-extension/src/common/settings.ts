/**
 * The `editloop.*` settings: one table, one name per setting, the same names as package.json's
 * `contributes.configuration` (tests/settings.test.ts checks the two agree) and the server's parser.
 * Pure: the caller passes a `get(name)` function (VS Code's WorkspaceConfiguration fits).
 */

interface Spec<T> {
    readonly default: T;
    /** The allowed values of a setting with fixed choices (package.json's `enum`). */
    readonly choices?: readonly T[];
    /** The parsed value, or undefined when `value` has the wrong type or range. */
    parse(value: unknown): T | undefined;
}

function str(def: string): Spec<string> {
    return { default: def, parse: (v) => (typeof v === 'string' ? v.trim() : undefined) };
}

function oneOf<const C extends string>(def: C, choices: readonly C[]): Spec<C> {
    return { default: def, choices, parse: (v) => (typeof v === 'string' && (choices as readonly string[]).includes(v.trim()) ? (v.trim() as C) : undefined) };
}

function bool(def: boolean): Spec<boolean> {
    return { default: def, parse: (v) => (typeof v === 'boolean' ? v : undefined) };
}

function int(def: number, min: number, max: number): Spec<number> {
    return {
        default: def,
        parse: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined),
    };
}

function positive(def: number): Spec<number> {
    return { default: def, parse: (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined) };
}

function numbers(def: number[]): Spec<number[]> {
    return {
        default: def,
        parse: (v) =>
            Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0)
                ? [...v]
                : undefined,
    };
}

function strings(def: string[]): Spec<string[]> {
    return {
        default: def,
        parse: (v) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? [...v] : undefined),
    };
}

export const SECTION = 'editloop';

export const SETTINGS = {
    python: str(''),
    dataDir: str(''),
    'generation.endpoint': str('http://localhost:11434/v1'),
    'generation.model': str(''),
    'generation.backend': oneOf('auto', ['auto', 'openai', 'local', 'llamacpp']),
    'generation.retrieval': int(0, 0, 20),
    'generation.inline': bool(false),
    'generation.retryInvalid': bool(true),
    survivalSeconds: numbers([30, 120, 300, 600]),
    /** Editor-only (the server ignores it, settings.py EDITOR_ONLY): Reject deletes the region's text. */
    rejectRemovesText: bool(true),
    redactSecrets: bool(true),
    exclude: strings(['**/.env', '**/.env.*', '**/*.pem', '**/*.key', '**/id_rsa*', '**/secrets/**', '**/.git/**']),
    'training.baseModel': str(''),
    'training.auto': bool(false),
    'training.threads': int(0, 0, 256),
    embeddings: bool(true),
    'reward.halfLifeDays': positive(30),
};

export type SettingName = keyof typeof SETTINGS;
export type Settings = { -readonly [K in SettingName]: (typeof SETTINGS)[K]['default'] };

/** Settings whose change needs a new server process (a different interpreter or data folder). */
export const RESTART_SETTINGS: readonly SettingName[] = ['python', 'dataDir'];

/**
 * Settings a folder's `.vscode/settings.json` may set only when the user trusts the folder: where
 * the server's interpreter and data live, which files are never captured, what is fine-tuned, where
 * prompts and document text are sent, and whether secrets are redacted. package.json lists the same
 * names under `capabilities.untrustedWorkspaces.restrictedConfigurations` (settings.test.ts checks).
 */
export const RESTRICTED_SETTINGS: readonly SettingName[] = [
    'python',
    'dataDir',
    'exclude',
    'training.baseModel',
    'generation.endpoint',
    'redactSecrets',
];

/** The layers of one setting, as VS Code's `WorkspaceConfiguration.inspect()` returns them. */
export interface Inspected {
    defaultValue?: unknown;
    globalValue?: unknown;
    workspaceValue?: unknown;
    workspaceFolderValue?: unknown;
}

/**
 * The value Editloop uses for a restricted setting. Untrusted workspace: the user's value (else the
 * default); the workspace and folder layers are never read, whatever VS Code passes. Trusted: the
 * usual precedence (folder, workspace, user, default), except `exclude`, where a workspace's
 * patterns are ADDED to the user's (or the default) list and can never remove one of them.
 */
export function restrictedValue(name: SettingName, inspected: Inspected | undefined, trusted: boolean): unknown {
    if (!inspected) {
        return undefined;
    }
    const user = inspected.globalValue ?? inspected.defaultValue;
    if (!trusted) {
        return user;
    }
    if (name === 'exclude') {
        const layers = [user, inspected.workspaceValue, inspected.workspaceFolderValue].filter((v) => v !== undefined && v !== null);
        const invalid = layers.find((v) => !Array.isArray(v));
        if (invalid !== undefined) {
            return invalid; // readSettings reports it and falls back to the default
        }
        return [...new Set((layers as unknown[][]).flat())];
    }
    return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? user;
}

/** The part of VS Code's WorkspaceConfiguration that the reader uses. */
export interface ConfigurationLike {
    get(name: string): unknown;
    inspect(name: string): Inspected | undefined;
}

/** A `get(name)` for readSettings: restricted settings through restrictedValue, the rest as VS Code resolves them. */
export function settingReader(config: ConfigurationLike, trusted: boolean): (name: string) => unknown {
    return (name) =>
        (RESTRICTED_SETTINGS as readonly string[]).includes(name)
            ? restrictedValue(name as SettingName, config.inspect(name), trusted)
            : config.get(name);
}

export interface ReadResult {
    settings: Settings;
    /** One line per setting that had an invalid value and fell back to its default. */
    problems: string[];
}

export function readSettings(get: (name: string) => unknown): ReadResult {
    const settings: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, Spec<unknown>][]) {
        const raw = get(name);
        if (raw === undefined || raw === null) {
            settings[name] = spec.default;
            continue;
        }
        const parsed = spec.parse(raw);
        if (parsed === undefined) {
            problems.push(`${SECTION}.${name}: invalid value ${JSON.stringify(raw)}, using ${JSON.stringify(spec.default)}`);
            settings[name] = spec.default;
        } else {
            settings[name] = parsed;
        }
    }
    return { settings: settings as Settings, problems };
}

/**
 * The settings as the nested object VS Code itself shows for `editloop` (`{generation: {endpoint}}`),
 * sent as `initializationOptions` and in `workspace/didChangeConfiguration`.
 */
export function toServerSettings(settings: Settings): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(settings)) {
        const parts = name.split('.');
        let node = out;
        for (const part of parts.slice(0, -1)) {
            node = (node[part] ??= {}) as Record<string, unknown>;
        }
        node[parts[parts.length - 1]] = value;
    }
    return out;
}

/** The names of settings that differ between two reads. */
export function changedSettings(before: Settings, after: Settings): SettingName[] {
    return (Object.keys(SETTINGS) as SettingName[]).filter(
        (name) => JSON.stringify(before[name]) !== JSON.stringify(after[name]),
    );
}

export function needsRestart(changed: readonly SettingName[]): boolean {
    return changed.some((name) => RESTART_SETTINGS.includes(name));
}

/** Expands `~`, `${userHome}` and `${workspaceFolder}` in a path setting. */
export function expandPath(value: string, vars: { home: string; workspaceFolder?: string }): string {
    let out = value.trim();
    if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
        out = vars.home + out.slice(1);
    }
    out = out.split('${userHome}').join(vars.home);
    if (vars.workspaceFolder !== undefined) {
        out = out.split('${workspaceFolder}').join(vars.workspaceFolder);
    }
    return out;
}
