import { afterEach, describe, expect, it, vi } from 'vitest';
import { guessArtifactType } from '../src/common/artifactType';
import { debounce } from '../src/common/debounce';
import { regionsNeedingDiff } from '../src/views/codelens';
import { hoverMarkdown, hoverRows } from '../src/views/hover';

describe('regionsNeedingDiff (server CodeLens middleware)', () => {
    it('adds one Diff per Accept lens that has none', () => {
        const lenses = [
            { command: 'editloop.accept', arguments: [{ regionId: 'a' }] },
            { command: 'editloop.reject', arguments: [{ regionId: 'a' }] },
            { command: 'editloop.accept', arguments: [{ regionId: 'b' }] },
            { command: 'editloop.diff', arguments: [{ regionId: 'b' }] },
            { command: 'editloop.accept', arguments: [{ regionId: 'a' }] },
            { command: 'editloop.accept', arguments: [] },
            undefined,
        ];
        expect(regionsNeedingDiff(lenses)).toEqual(['a']);
    });
});

describe('hover', () => {
    const detail = {
        id: 'r1',
        uri: 'file:///a',
        range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } },
        status: 'pending',
        original: 'x',
        prompt: 'draw **orders** <img src=x onerror=alert(1)>',
        model: 'llama3',
        artifactType: 'mermaid-erd',
        similarity: 0.873,
    };

    it('shows the model, the prompt and the similarity so far', () => {
        expect(hoverRows(detail)).toEqual([
            ['Model', 'llama3'],
            ['Artifact', 'mermaid-erd'],
            ['Similarity to the original', '87%'],
            ['Status', 'pending'],
            ['Prompt', detail.prompt],
        ]);
        expect(hoverRows({ ...detail, similarity: null, model: undefined, prompt: undefined })).toEqual([
            ['Model', 'unknown'],
            ['Artifact', 'mermaid-erd'],
            ['Similarity to the original', 'not measured yet'],
            ['Status', 'pending'],
        ]);
    });

    it('escapes stored text and trusts nothing', () => {
        const md = hoverMarkdown(detail);
        expect(md.isTrusted).toBe(false);
        expect(md.supportHtml).toBe(false);
        // Stored values go through appendText (escaped), labels through appendMarkdown.
        expect(md.value).toContain('\\<img src=x onerror=alert\\(1\\)\\>');
        expect(md.value).toContain('\\*\\*orders\\*\\*');
        expect(md.value).toContain('**Editloop**');
    });
});

describe('guessArtifactType', () => {
    it('knows languages and Mermaid diagram kinds', () => {
        expect(guessArtifactType('python', '')).toBe('python');
        expect(guessArtifactType('typescriptreact', '')).toBe('typescript');
        expect(guessArtifactType('mermaid', '%% x\nerDiagram\n  A ||--o{ B : has')).toBe('mermaid-erd');
        expect(guessArtifactType('markdown', '```mermaid\nsequenceDiagram\n```')).toBe('mermaid-sequence');
        expect(guessArtifactType('markdown', '# just notes')).toBeUndefined();
        expect(guessArtifactType('rust', 'fn main() {}')).toBeUndefined();
    });
});

describe('debounce', () => {
    afterEach(() => vi.useRealTimers());

    it('runs once after the last call, and not at all when cancelled', () => {
        vi.useFakeTimers();
        let n = 0;
        const d = debounce(() => n++, 100);
        d.schedule();
        vi.advanceTimersByTime(60);
        d.schedule();
        vi.advanceTimersByTime(60);
        expect(n).toBe(0);
        vi.advanceTimersByTime(50);
        expect(n).toBe(1);
        d.schedule();
        d.cancel();
        vi.advanceTimersByTime(500);
        expect(n).toBe(1);
    });
});
