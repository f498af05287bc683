/**
 * Finding the interpreter that runs the server, and checking that `editloop` is importable there.
 * No VS Code imports: the Python extension lookup and process runner are passed in, so the order
 * and the messages are unit-tested (tests/python.test.ts).
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants, promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The server versions this extension speaks to: >= MIN and < MAX (release numbers only). */
export const SERVER_VERSION_MIN = '0.1.0';
export const SERVER_VERSION_MAX = '0.2.0';
export const PIP_REQUIREMENT = `editloop>=${SERVER_VERSION_MIN},<${SERVER_VERSION_MAX}`;

export type InterpreterSource = 'setting' | 'python-extension' | 'path';

export interface Interpreter {
    python: string;
    source: InterpreterSource;
}

export interface FindDeps {
    /** The `editloop.python` setting, already expanded; '' when unset. */
    setting: string;
    /** The Python extension's active environment; undefined when it is not installed or has none. */
    pythonExtension(): Promise<string | undefined>;
    /** Absolute path of an executable on PATH, or undefined. */
    which(name: string): Promise<string | undefined>;
    platform: NodeJS.Platform;
    log(message: string): void;
    /**
     * The workspace folders when the workspace is NOT trusted (else empty): an interpreter inside one
     * of them (a checked-in `.venv`) is the workspace's code, and is never run in Restricted Mode.
     */
    untrustedFolders?: readonly string[];
}

/**
 * True when the absolute path `file` is `folder` or lies under it, as written: symlinks are not
 * followed, since a venv's `bin/python` links out of the venv yet loads the venv's site-packages.
 * A bare command name (`python3`) is never inside a folder.
 */
export function isInside(file: string, folder: string, platform: NodeJS.Platform): boolean {
    const p = platform === 'win32' ? path.win32 : path.posix;
    if (!p.isAbsolute(file)) {
        return false;
    }
    const fold = (s: string) => (platform === 'win32' || platform === 'darwin' ? s.toLowerCase() : s);
    const rel = p.relative(fold(p.resolve(folder)), fold(p.resolve(file)));
    return rel === '' || (rel !== '..' && !rel.startsWith(`..${p.sep}`) && !p.isAbsolute(rel));
}

/** The interpreter, in a fixed order: the setting, the Python extension's environment, PATH. */
export async function findInterpreter(deps: FindDeps): Promise<Interpreter | undefined> {
    const untrusted = (python: string) => {
        const folder = deps.untrustedFolders?.find((f) => isInside(python, f, deps.platform));
        if (folder !== undefined) {
            deps.log(`Interpreter: not running ${python}: it is inside the untrusted workspace folder ${folder} (trust the folder to use it)`);
        }
        return folder !== undefined;
    };
    if (deps.setting && !untrusted(deps.setting)) {
        deps.log(`Interpreter: using editloop.python = ${deps.setting}`);
        return { python: deps.setting, source: 'setting' };
    }
    if (!deps.setting) {
        deps.log('Interpreter: editloop.python is not set');
    }
    let fromExtension: string | undefined;
    try {
        fromExtension = await deps.pythonExtension();
    } catch (err) {
        deps.log(`Interpreter: the Python extension failed to report an environment: ${String(err)}`);
    }
    if (fromExtension && !untrusted(fromExtension)) {
        deps.log(`Interpreter: using the Python extension's active environment ${fromExtension}`);
        return { python: fromExtension, source: 'python-extension' };
    }
    if (!fromExtension) {
        deps.log('Interpreter: no active environment from the Python extension (not installed, or none selected)');
    }
    const names = deps.platform === 'win32' ? ['python', 'py'] : ['python3', 'python'];
    for (const name of names) {
        const found = await deps.which(name);
        if (found && !untrusted(found)) {
            deps.log(`Interpreter: using ${name} on PATH: ${found}`);
            return { python: found, source: 'path' };
        }
        if (!found) {
            deps.log(`Interpreter: ${name} not found on PATH`);
        }
    }
    return undefined;
}

/** Looks an executable up on PATH (PATHEXT on Windows). */
export async function which(
    name: string,
    env: NodeJS.ProcessEnv = process.env,
    platform: NodeJS.Platform = process.platform,
): Promise<string | undefined> {
    const dirs = (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
    const exts = platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
    for (const dir of dirs) {
        for (const ext of exts) {
            const candidate = path.join(dir, name + ext);
            try {
                const stat = await fs.stat(candidate);
                if (!stat.isFile()) {
                    continue;
                }
                if (platform !== 'win32') {
                    await fs.access(candidate, fsConstants.X_OK);
                }
                return candidate;
            } catch {
                // not here
            }
        }
    }
    return undefined;
}

export interface ProcessResult {
    code: number | null;
    stdout: string;
    stderr: string;
    /** Set when the process could not be started at all (ENOENT, EACCES, timeout). */
    error?: string;
}

export type Runner = (command: string, args: string[], timeoutMs: number) => Promise<ProcessResult>;

export const runProcess: Runner = (command, args, timeoutMs) =>
    new Promise((resolve) => {
        execFile(command, args, { timeout: timeoutMs, windowsHide: true, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
            const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
            const startError = err && typeof err.code !== 'number' ? String(err.message) : undefined;
            resolve({ code, stdout: String(stdout), stderr: String(stderr), error: startError });
        });
    });

export const VERSION_PROBE = 'import editloop, sys; print(editloop.__version__)';

export type EditloopCheck =
    | { kind: 'ok'; version: string }
    | { kind: 'missing'; detail: string }
    | { kind: 'incompatible'; version: string }
    | { kind: 'broken'; detail: string };

/** Runs `<python> -c "import editloop, sys; print(editloop.__version__)"` and classifies the answer. */
export async function checkEditloop(python: string, run: Runner): Promise<EditloopCheck> {
    const result = await run(python, ['-c', VERSION_PROBE], 20_000);
    if (result.error !== undefined) {
        return { kind: 'broken', detail: `cannot run ${python}: ${result.error}` };
    }
    if (result.code !== 0) {
        const stderr = result.stderr.trim();
        if (/ModuleNotFoundError|No module named/.test(stderr)) {
            return { kind: 'missing', detail: lastLine(stderr) };
        }
        return { kind: 'broken', detail: lastLine(stderr) || `exit code ${String(result.code)}` };
    }
    const version = lastLine(result.stdout.trim());
    return isCompatibleVersion(version) ? { kind: 'ok', version } : { kind: 'incompatible', version };
}

function lastLine(text: string): string {
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
    return lines.length ? lines[lines.length - 1].trim() : '';
}

/** The release numbers of a PEP 440 version ("0.1.0rc1" -> [0, 1, 0]), or undefined. */
export function releaseOf(version: string): number[] | undefined {
    const m = /^v?(\d+(?:\.\d+)*)/.exec(version.trim());
    if (!m) {
        return undefined;
    }
    return m[1].split('.').map(Number);
}

function compare(a: number[], b: number[]): number {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const d = (a[i] ?? 0) - (b[i] ?? 0);
        if (d !== 0) {
            return d;
        }
    }
    return 0;
}

export function isCompatibleVersion(version: string): boolean {
    const release = releaseOf(version);
    if (!release) {
        return false;
    }
    return compare(release, releaseOf(SERVER_VERSION_MIN)!) >= 0 && compare(release, releaseOf(SERVER_VERSION_MAX)!) < 0;
}

/** The pip invocation that installs or upgrades a compatible server into `python`. */
export function pipInstallArgs(): string[] {
    return ['-m', 'pip', 'install', '--upgrade', PIP_REQUIREMENT];
}

/** The same command as a user would type it in a terminal (POSIX or Windows quoting). */
export function pipInstallCommandLine(python: string, platform: NodeJS.Platform = process.platform): string {
    return [python, ...pipInstallArgs()].map((a) => shellQuote(a, platform)).join(' ');
}

export function shellQuote(arg: string, platform: NodeJS.Platform): string {
    if (/^[\w@%+=:,./\\-]+$/.test(arg)) {
        return arg;
    }
    if (platform === 'win32') {
        return `"${arg.replace(/"/g, '""')}"`;
    }
    return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The server process: `<python> -m editloop serve`. */
export function serverArgs(): string[] {
    return ['-m', 'editloop', 'serve'];
}

/** A one-line explanation of a failed check, for an error message. */
export function describeCheck(python: string, check: Exclude<EditloopCheck, { kind: 'ok' }>): string {
    switch (check.kind) {
        case 'missing':
            return `The Editloop server (Python package "editloop") is not installed in ${python}.`;
        case 'incompatible':
            return `${python} has editloop ${check.version}; this extension needs ${PIP_REQUIREMENT.replace('editloop', '')}.`;
        case 'broken':
            return `Cannot check editloop in ${python}: ${check.detail}`;
    }
}
