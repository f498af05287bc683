import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
    checkEditloop,
    describeCheck,
    findInterpreter,
    FindDeps,
    isCompatibleVersion,
    isInside,
    pipInstallCommandLine,
    ProcessResult,
    releaseOf,
    runProcess,
    serverArgs,
    VERSION_PROBE,
    which,
} from '../src/common/python';

function deps(over: Partial<FindDeps>): FindDeps & { logs: string[] } {
    const logs: string[] = [];
    return {
        setting: '',
        pythonExtension: async () => undefined,
        which: async () => undefined,
        platform: 'linux',
        log: (m) => logs.push(m),
        logs,
        ...over,
    };
}

describe('findInterpreter order', () => {
    it('prefers the editloop.python setting and does not consult the others', async () => {
        let asked = false;
        const d = deps({ setting: '/opt/py', pythonExtension: async () => ((asked = true), '/venv/python') });
        expect(await findInterpreter(d)).toEqual({ python: '/opt/py', source: 'setting' });
        expect(asked).toBe(false);
        expect(d.logs[0]).toContain('editloop.python');
    });

    it("then the Python extension's active environment", async () => {
        const d = deps({ pythonExtension: async () => '/proj/.venv/bin/python', which: async () => '/usr/bin/python3' });
        expect(await findInterpreter(d)).toEqual({ python: '/proj/.venv/bin/python', source: 'python-extension' });
        expect(d.logs).toEqual([
            'Interpreter: editloop.python is not set',
            "Interpreter: using the Python extension's active environment /proj/.venv/bin/python",
        ]);
    });

    it('then python3 on PATH, logging why each earlier step was skipped', async () => {
        const d = deps({ pythonExtension: async () => { throw new Error('api broke'); }, which: async (n) => (n === 'python3' ? '/usr/bin/python3' : undefined) });
        expect(await findInterpreter(d)).toEqual({ python: '/usr/bin/python3', source: 'path' });
        expect(d.logs.join('\n')).toMatch(/not set[\s\S]*api broke[\s\S]*no active environment[\s\S]*python3 on PATH/);
    });

    it('tries python on PATH when python3 is missing, and gives up with a log per step', async () => {
        const d = deps({ which: async () => undefined });
        expect(await findInterpreter(d)).toBeUndefined();
        expect(d.logs.filter((l) => l.includes('not found on PATH'))).toHaveLength(2);
        const w = deps({ platform: 'win32', which: async (n) => (n === 'py' ? 'C:\\py.exe' : undefined) });
        expect(await findInterpreter(w)).toEqual({ python: 'C:\\py.exe', source: 'path' });
    });
});

describe('findInterpreter in an untrusted workspace', () => {
    it('never runs an interpreter inside the workspace folder, from any source, and says why', async () => {
        const d = deps({
            setting: '/work/repo/.venv/bin/python',
            pythonExtension: async () => '/work/repo/env/bin/python3',
            which: async (n) => (n === 'python3' ? '/work/repo/bin/python3' : '/usr/bin/python'),
            untrustedFolders: ['/work/repo'],
        });
        expect(await findInterpreter(d)).toEqual({ python: '/usr/bin/python', source: 'path' });
        const refused = d.logs.filter((l) => l.includes('inside the untrusted workspace folder /work/repo'));
        expect(refused).toHaveLength(3);
        expect(refused[0]).toContain('/work/repo/.venv/bin/python');
    });

    it('still uses interpreters outside it, and everything once trusted', async () => {
        const outside = deps({ pythonExtension: async () => '/home/u/.venvs/el/bin/python', untrustedFolders: ['/work/repo'] });
        expect(await findInterpreter(outside)).toEqual({ python: '/home/u/.venvs/el/bin/python', source: 'python-extension' });
        const trusted = deps({ setting: '/work/repo/.venv/bin/python', untrustedFolders: [] });
        expect(await findInterpreter(trusted)).toEqual({ python: '/work/repo/.venv/bin/python', source: 'setting' });
        const missing = deps({ setting: '/work/repo/.venv/bin/python', untrustedFolders: ['/work/repo'] });
        expect(await findInterpreter(missing)).toBeUndefined();
    });
});

describe('isInside', () => {
    it('compares paths as written, per platform', () => {
        expect(isInside('/work/repo/.venv/bin/python', '/work/repo', 'linux')).toBe(true);
        expect(isInside('/work/repo/../repo/x/python', '/work/repo', 'linux')).toBe(true);
        expect(isInside('/work/repo', '/work/repo/', 'linux')).toBe(true);
        expect(isInside('/work/repo2/bin/python', '/work/repo', 'linux')).toBe(false);
        expect(isInside('/work/python', '/work/repo', 'linux')).toBe(false);
        expect(isInside('/work/repo/..venv/python', '/work/repo', 'linux')).toBe(true);
        expect(isInside('/WORK/Repo/bin/python', '/work/repo', 'linux')).toBe(false);
        expect(isInside('/WORK/Repo/bin/python', '/work/repo', 'darwin')).toBe(true);
        expect(isInside('python3', '/work/repo', 'linux')).toBe(false);
        expect(isInside('C:\\Work\\Repo\\.venv\\Scripts\\python.exe', 'c:\\work\\repo', 'win32')).toBe(true);
        expect(isInside('D:\\py\\python.exe', 'c:\\work\\repo', 'win32')).toBe(false);
    });
});

describe('which', () => {
    it('finds executables on PATH and skips non-executable files', async () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'editloop-which-'));
        writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n');
        chmodSync(path.join(dir, 'tool'), 0o755);
        writeFileSync(path.join(dir, 'plain'), 'x');
        chmodSync(path.join(dir, 'plain'), 0o644);
        const env = { PATH: `/nonexistent:${dir}` };
        expect(await which('tool', env, 'linux')).toBe(path.join(dir, 'tool'));
        expect(await which('plain', env, 'linux')).toBeUndefined();
        expect(await which('absent', env, 'linux')).toBeUndefined();
    });
});

describe('checkEditloop', () => {
    const fake = (r: Partial<ProcessResult>) => async (cmd: string, args: string[]) => {
        expect(args).toEqual(['-c', VERSION_PROBE]);
        return { code: 0, stdout: '', stderr: '', ...r };
    };

    it('classifies the probe answer', async () => {
        expect(await checkEditloop('py', fake({ stdout: '0.1.0\n' }))).toEqual({ kind: 'ok', version: '0.1.0' });
        expect(await checkEditloop('py', fake({ stdout: '0.1.5.dev2\n' }))).toEqual({ kind: 'ok', version: '0.1.5.dev2' });
        expect(await checkEditloop('py', fake({ stdout: '0.3.0\n' }))).toEqual({ kind: 'incompatible', version: '0.3.0' });
        const missing = await checkEditloop('py', fake({ code: 1, stderr: "Traceback...\nModuleNotFoundError: No module named 'editloop'\n" }));
        expect(missing.kind).toBe('missing');
        expect(await checkEditloop('py', fake({ code: 1, stderr: 'SyntaxError: bad\n' }))).toEqual({ kind: 'broken', detail: 'SyntaxError: bad' });
        expect((await checkEditloop('py', fake({ code: null, error: 'spawn py ENOENT' }))).kind).toBe('broken');
    });

    it('runs a real process: a fake interpreter that prints a version, one that lacks editloop, and none', async () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'editloop-py-'));
        const ok = path.join(dir, 'ok-python');
        writeFileSync(ok, '#!/bin/sh\necho "0.1.2"\n');
        chmodSync(ok, 0o755);
        const missing = path.join(dir, 'bare-python');
        writeFileSync(missing, '#!/bin/sh\necho "ModuleNotFoundError: No module named \'editloop\'" >&2\nexit 1\n');
        chmodSync(missing, 0o755);
        expect(await checkEditloop(ok, runProcess)).toEqual({ kind: 'ok', version: '0.1.2' });
        expect((await checkEditloop(missing, runProcess)).kind).toBe('missing');
        const none = await checkEditloop(path.join(dir, 'nope'), runProcess);
        expect(none.kind).toBe('broken');
        expect(describeCheck('nope', none as never)).toContain('Cannot check editloop in nope');
    });
});

describe('versions and commands', () => {
    it('parses PEP 440 release numbers and checks the range', () => {
        expect(releaseOf('0.1.0rc1')).toEqual([0, 1, 0]);
        expect(releaseOf('v1.2')).toEqual([1, 2]);
        expect(releaseOf('dev')).toBeUndefined();
        expect(isCompatibleVersion('0.1')).toBe(true);
        expect(isCompatibleVersion('0.1.99')).toBe(true);
        expect(isCompatibleVersion('0.0.9')).toBe(false);
        expect(isCompatibleVersion('0.2.0')).toBe(false);
        expect(isCompatibleVersion('')).toBe(false);
    });

    it('builds the exact pip command, quoted for the shell', () => {
        expect(pipInstallCommandLine('/usr/bin/python3', 'linux')).toBe("/usr/bin/python3 -m pip install --upgrade 'editloop>=0.1.0,<0.2.0'");
        expect(pipInstallCommandLine('/home/me/my env/bin/python', 'linux')).toBe(
            "'/home/me/my env/bin/python' -m pip install --upgrade 'editloop>=0.1.0,<0.2.0'",
        );
        expect(pipInstallCommandLine('C:\\Program Files\\Python\\python.exe', 'win32')).toBe(
            '"C:\\Program Files\\Python\\python.exe" -m pip install --upgrade "editloop>=0.1.0,<0.2.0"',
        );
        expect(serverArgs()).toEqual(['-m', 'editloop', 'serve']);
    });
});
