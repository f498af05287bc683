/**
 * The real client against the real server, without VS Code: runs when EDITLOOP_TEST_PYTHON names
 * an interpreter with editloop installed (skipped otherwise). Checks the wire contract the
 * extension relies on: the advertised commands (not registered as VS Code commands), a command
 * round trip, and `editloop/regions` after `editloop.track`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, TransportKind } from 'vscode-languageclient/node';
import { EditloopClient, ServerCommandsFeature } from '../src/common/client';
import { parseRegionsParams } from '../src/common/protocol';

const python = process.env.EDITLOOP_TEST_PYTHON;

describe.skipIf(!python)('client <-> real editloop server', () => {
    it('initializes, advertises commands, answers stats and reports tracked regions', async () => {
        const home = mkdtempSync(path.join(tmpdir(), 'editloop-home-'));
        const client = new EditloopClient(
            { command: python!, args: ['-m', 'editloop', 'serve'], transport: TransportKind.stdio, options: { env: { ...process.env, EDITLOOP_HOME: home } } },
            { documentSelector: [{ scheme: 'file' }], initializationOptions: { dataDir: home } },
        );
        const commands = new ServerCommandsFeature();
        client.registerFeature(commands);
        const regions: unknown[] = [];
        client.onNotification('editloop/regions', (p: unknown) => regions.push(p));
        await client.start();
        try {
            const offered = commands.commands();
            for (const c of ['editloop.track', 'editloop.accept', 'editloop.reject', 'editloop.stats', 'editloop.region', 'editloop.forget']) {
                expect(offered.has(c), c).toBe(true);
            }
            expect((vscode as unknown as { registeredCommands: string[] }).registeredCommands).not.toContain('editloop.accept');
            const stats = (await client.sendRequest(ExecuteCommandRequest.type, { command: 'editloop.stats', arguments: [{}] })) as Record<string, unknown>;
            expect(stats).toHaveProperty('total');

            const uri = 'file:///tmp/editloop-test/schema.mmd';
            const text = 'erDiagram\n  CUSTOMER ||--o{ ORDER : places\n';
            await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'mermaid', version: 1, text } });
            const tracked = (await client.sendRequest(ExecuteCommandRequest.type, {
                command: 'editloop.track',
                arguments: [{ uri, range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } }, prompt: 'orders', model: 'm', artifactType: 'mermaid-erd', language: 'mermaid' }],
            })) as { regionId: string };
            expect(typeof tracked.regionId).toBe('string');
            for (let i = 0; i < 50 && regions.length === 0; i++) {
                await new Promise((r) => setTimeout(r, 20));
            }
            const parsed = parseRegionsParams(regions[regions.length - 1]);
            expect(parsed?.uri).toBe(uri);
            expect(parsed?.regions.map((r) => r.id)).toContain(tracked.regionId);
        } finally {
            await client.stop(2000);
        }
    }, 30_000);
});
