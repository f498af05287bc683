import { describe, expect, it } from 'vitest';
import { percent, statusText, text, toStatsView } from '../src/common/statsModel';
import { HOSTILE, sampleStats } from './fixtures';

describe('toStatsView', () => {
    it('maps the server result to chart series', () => {
        const v = toStatsView(sampleStats());
        expect(v.empty).toBe(false);
        expect(v.total).toBe(12);
        expect(v.counts).toEqual({ accept: 6, edit: 4, reject: 2 });
        expect(v.byArtifactType.labels).toEqual(['mermaid-erd', HOSTILE[0]]);
        expect(v.byArtifactType.edit).toEqual([3, 1]);
        expect(v.daily.labels).toEqual(['2025-01-02', '2025-01-01']);
        expect(v.daily.meanEditDistance).toEqual([31, 22.5]);
        expect(v.rewardHistogram.labels).toEqual(['-1 – 0', '0 – 0.50', '0.50 – 1']);
        expect(v.rewardHistogram.counts).toEqual([2, 3, 7]);
        expect(v.embeddings).toBe('off');
        const [run, failed] = v.runs;
        expect(run).toMatchObject({ id: HOSTILE[1], method: HOSTILE[2], promoted: true, summary: 'valLoss 0.50' });
        expect(run.curve.steps).toEqual([10, 20]);
        expect(run.curve.valLoss).toEqual([0.9, 0.6]);
        expect(failed).toMatchObject({ id: 'run-2', status: 'failed', finishedAt: '', summary: '' });
    });

    it('turns missing or malformed fields into empty series, never throwing', () => {
        for (const raw of [undefined, null, 'x', 42, [], {}, { counts: 'many', daily: 'no', recentRuns: [null, 1, { id: {} }], rewardHistogram: { counts: ['a'] } }]) {
            const v = toStatsView(raw);
            expect(v.empty).toBe(true);
            expect(v.daily.labels).toEqual([]);
            expect(v.runs).toEqual([]);
            expect(v.acceptRate).toBeNull();
        }
        const partial = toStatsView({ counts: { accept: 2, edit: -1, reject: NaN } });
        expect(partial.total).toBe(2);
        expect(partial.counts).toEqual({ accept: 2, edit: 0, reject: 0 });
        expect(toStatsView({ rewardHistogram: { counts: [1, 2], edges: [0] } }).rewardHistogram.labels).toEqual(['bin 1', 'bin 2']);
    });

    it('shows the panel (not the empty state) when there are runs but no events yet', () => {
        expect(toStatsView({ total: 0, recentRuns: [{ id: 'r', status: 'running' }] }).empty).toBe(false);
    });

    it('cuts very long strings', () => {
        expect(text('x'.repeat(1000)).length).toBe(120);
        expect(text(undefined, 'fallback')).toBe('fallback');
    });

    it('gives the status bar its two figures', () => {
        expect(statusText(sampleStats())).toEqual({ pending: 3, acceptRate: 0.5 });
        expect(statusText({})).toEqual({ pending: 0, acceptRate: null });
        expect(percent(0.728)).toBe('73%');
        expect(percent(null)).toBe('–');
    });
});
