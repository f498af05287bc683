/**
 * The real client against the real server, without VS Code: runs when EDITLOOP_TEST_PYTHON names
 * an interpreter with editloop installed (skipped otherwise). Checks the wire contract the
 * extension relies on: the advertised commands (not registered as VS Code commands), a command
 * round trip, `editloop/regions` after `editloop.track`, the pending region's range and current
 * text from `editloop.region` (what Reject deletes), `editloop/statsChanged` after the reject,
 * keptRate/unchangedRate in the stats, and a type alias in track answered with the canonical type.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, TransportKind } from 'vscode-languageclient/node';
import { EditloopClient, ServerCommandsFeature } from '../src/common/client';
import { parseRegionDetail, parseRegionsParams } from '../src/common/protocol';

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
        let statsChanged = 0;
        client.onNotification('editloop/statsChanged', () => statsChanged++);
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

            // What Reject relies on: a pending region's range and current text, read before the reject.
            const run = (command: string, arg: object) => client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [arg] });
            const detail = parseRegionDetail(await run('editloop.region', { regionId: tracked.regionId }));
            expect(detail).toMatchObject({ status: 'pending', range: { start: { line: 0, character: 0 }, end: { line: 2, character: 0 } }, current: text });
            expect(await run('editloop.reject', { regionId: tracked.regionId })).toMatchObject({ action: 'reject' });
            expect(parseRegionDetail(await run('editloop.region', { regionId: tracked.regionId }))).toBeUndefined(); // no range once rejected
            // The server tells the panel that the stats changed (debounced, about a second).
            for (let i = 0; i < 150 && statsChanged === 0; i++) {
                await new Promise((r) => setTimeout(r, 20));
            }
            expect(statsChanged).toBeGreaterThan(0);
            expect(await run('editloop.stats', {})).toMatchObject({ keptRate: 0, unchangedRate: 0 });

            // Aliases in track come back as the canonical type.
            const alias = (await run('editloop.track', {
                uri,
                range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } },
                prompt: '',
                model: '',
                artifactType: 'erd',
            })) as { artifactType?: string };
            expect(alias.artifactType).toBe('mermaid-erd');
        } finally {
            await client.stop(2000);
        }
    }, 30_000);
});
