/** Readable names in user-facing text: runs, the model that wrote a region, progress, relative times. */
import { describe, expect, it } from 'vitest';
import { rememberedType, rememberType, serverInfersType, trackTypeFor, typeChoices } from '../src/common/artifactType';
import { generatedMessage, parseGenerateResult, progressText, runLabel, writtenBy } from '../src/common/names';
import { parseRunFinished } from '../src/common/protocol';
import { runFinishedMessage } from '../src/common/runs';
import { parseTime, relativeTime } from '../src/common/time';

describe('runLabel', () => {
    it('names a run by when it started, with the id tail to tell same-minute runs apart', () => {
        expect(runLabel('20261203-140501-eb4e90')).toBe('run of 12-03 14:05 (…eb4e90)');
        expect(runLabel('r9')).toBe('run r9');
        expect(runLabel('x'.repeat(40))).toBe(`run ${'x'.repeat(23)}…`);
    });
});

describe('writtenBy / generatedMessage', () => {
    it('says which model wrote the text, as the hover does', () => {
        expect(writtenBy({ model: 'editloop-default', modelVersion: '20261203-140501-eb4e90' })).toBe('run of 12-03 14:05 (…eb4e90)');
        expect(writtenBy({ model: 'editloop-default', modelVersion: 'base' })).toBe('the base model (editloop-default)');
        expect(writtenBy({ modelVersion: 'base' })).toBe('the base model');
        expect(writtenBy({ model: 'llama3.1:8b', modelVersion: 'endpoint' })).toBe('llama3.1:8b at the generation endpoint');
        expect(writtenBy({ model: 'gpt-4o', modelVersion: null })).toBe('gpt-4o');
        expect(writtenBy({})).toBe('an unknown model');
        expect(writtenBy({ model: 'm', modelVersion: 'v2' })).toBe('m (v2)');
    });

    it('parses the generate result defensively and says when the text is a retry', () => {
        const r = parseGenerateResult({ regionId: 'r1', text: 'x', model: 'm', modelVersion: '20261203-140501-eb4e90', retry: 'beam' });
        expect(generatedMessage(r)).toBe(
            'Editloop: written by run of 12-03 14:05 (…eb4e90) on a retry with beam search (its first output was not valid); edit it, then Accept or Reject.',
        );
        expect(generatedMessage(parseGenerateResult({ model: 'm', modelVersion: 'base', retry: '' }))).toBe('Editloop: written by the base model (m); edit it, then Accept or Reject.');
        expect(parseGenerateResult(null)).toEqual({ model: undefined, modelVersion: null, retry: '' });
        expect(generatedMessage(parseGenerateResult({ regionId: 'r83452fb349f54b12', model: 7 }))).not.toContain('r83452fb349f54b12');
    });
});

describe('progressText', () => {
    it('names the run readably in the title and does not repeat its id in the message', () => {
        const id = '20261203-140501-eb4e90';
        expect(progressText(`Editloop: training ${id}`, undefined)).toEqual({ title: 'Editloop: training run of 12-03 14:05 (…eb4e90)', message: undefined });
        expect(progressText(`Editloop: training ${id}`, `run ${id} starting`).message).toBe('starting');
        expect(progressText(`Editloop: training ${id}`, `${id}: step 3/10 · loss 0.412`).message).toBe('step 3/10 · loss 0.412');
        expect(progressText('Editloop: training', 'sft · step 3/10').message).toBe('sft · step 3/10');
        expect(progressText('t', `run ${id}`).message).toBeUndefined();
    });

    it('names the run in runFinished messages, with the reason of a failure', () => {
        const failed = parseRunFinished({ runId: '20261203-140501-eb4e90', status: 'failed', metrics: {}, error: 'not enough feedback: 3 events, at least 8 needed.' })!;
        expect(runFinishedMessage(failed)).toBe('Editloop: training run of 12-03 14:05 (…eb4e90) failed: not enough feedback: 3 events, at least 8 needed.');
        const promoted = parseRunFinished({ runId: '20261203-140501-eb4e90', status: 'succeeded', promoted: true, metrics: { valLoss: 0.5 } })!;
        expect(runFinishedMessage(promoted)).toBe('Editloop: training run of 12-03 14:05 (…eb4e90) succeeded (valLoss 0.50); promoted to the active model.');
    });
});

describe('relativeTime', () => {
    const now = Date.parse('2026-12-03T14:05:00.000Z');
    it('reads like a person would say it', () => {
        expect(relativeTime('2026-12-03T14:04:50.000Z', now)).toBe('just now');
        expect(relativeTime('2026-12-03T14:06:00.000Z', now)).toBe('just now'); // clock skew
        expect(relativeTime('2026-12-03T14:02:00.000Z', now)).toBe('3 min ago');
        expect(relativeTime('2026-12-03T14:04:00Z', now)).toBe('1 min ago');
        expect(relativeTime('2026-12-03T11:05:00.000Z', now)).toBe('3 h ago');
        expect(relativeTime('2026-12-02T10:00:00.000Z', now)).toBe('yesterday');
        expect(relativeTime('2026-11-28T10:00:00.000Z', now)).toBe('5 days ago');
        expect(relativeTime('2026-09-01T10:00:00.000Z', now)).toBe('on 2026-09-01');
        expect(relativeTime('2026-12-03 14:02:00', now)).toBe('3 min ago'); // no zone: the server's UTC
        expect(relativeTime('soon', now)).toBe('soon');
        expect(parseTime('2026-13-45T99:00:00Z')).toBeUndefined();
    });
});

describe('artifact types: when the server infers, what Mark Selection sends, remembered answers', () => {
    const doc = (languageId: string, path: string, text = '') => ({ languageId, path, text });

    it('lets the server infer for Mermaid files, mermaid fences in Markdown and known languages only', () => {
        expect(serverInfersType(doc('plaintext', '/w/model.mmd'))).toBe(true);
        expect(serverInfersType(doc('plaintext', '/w/Model.MERMAID'))).toBe(true);
        expect(serverInfersType(doc('mermaid', '/w/untitled-1'))).toBe(true);
        expect(serverInfersType(doc('markdown', '/w/README.md', '# x\n\n```mermaid\nflowchart LR\n```'))).toBe(true);
        expect(serverInfersType(doc('markdown', '/w/README.md', '~~~ mermaid\nerDiagram\n~~~'))).toBe(true);
        expect(serverInfersType(doc('markdown', '/w/README.md', '# no diagram'))).toBe(false);
        for (const lang of ['python', 'sql', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact']) {
            expect(serverInfersType(doc(lang, '/w/f')), lang).toBe(true);
        }
        expect(serverInfersType(doc('rust', '/w/main.rs'))).toBe(false);
        expect(serverInfersType(doc('plaintext', '/w/notes.txt'))).toBe(false);
    });

    it('sends a specific type for a selection when it can tell, else mermaid in a Mermaid document', () => {
        expect(trackTypeFor(doc('python', '/w/a.py'), 'x = 1')).toBe('python');
        expect(trackTypeFor(doc('plaintext', '/w/m.mmd'), 'sequenceDiagram\n A->>B: hi')).toBe('mermaid-sequence');
        // A fragment of a diagram: the document's keyword names it; a new file's, the server refines.
        expect(trackTypeFor(doc('plaintext', '/w/m.mmd', 'erDiagram\n  CUSTOMER {\n  }\n'), '  CUSTOMER {\n  }')).toBe('mermaid-erd');
        expect(trackTypeFor(doc('markdown', '/w/r.md', '```mermaid\nclassDiagram\n  A <|-- B\n```'), '  A <|-- B')).toBe('mermaid-class');
        expect(trackTypeFor(doc('plaintext', '/w/m.mmd'), '  CUSTOMER {\n  }')).toBe('mermaid');
        expect(trackTypeFor(doc('rust', '/w/a.rs'), 'fn main() {}')).toBeUndefined();
    });

    it('remembers an answer per file and puts it first, once', async () => {
        const values = new Map<string, unknown>();
        const memento = { get: <T>(k: string) => values.get(k) as T | undefined, update: async (k: string, v: unknown) => void values.set(k, v) };
        expect(rememberedType(memento, 'file:///a.rs')).toBeUndefined();
        await rememberType(memento, 'file:///a.rs', 'sql');
        await rememberType(memento, 'file:///b.rs', 'auto');
        expect(rememberedType(memento, 'file:///a.rs')).toBe('sql');
        const items = typeChoices('rust', true, 'sql');
        expect(items[0]).toEqual({ label: 'SQL', description: 'sql · your last answer for this file', id: 'sql' });
        expect(items[1].id).toBe('auto');
        expect(items.filter((i) => i.id === 'sql')).toHaveLength(1);
        expect(typeChoices('rust', false, 'auto')[0].id).toBe('mermaid-erd'); // no server choice offered: nothing moved
        values.set('editloop.artifactTypeByUri', 'garbage');
        expect(rememberedType(memento, 'file:///a.rs')).toBeUndefined();
    });
});
