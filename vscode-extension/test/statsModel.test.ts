import { describe, expect, it } from 'vitest';
import { keptWording, percent, statusText, text, toStatsView } from '../src/common/statsModel';
import { HOSTILE, sampleStats } from './fixtures';

describe('toStatsView', () => {
    it('maps the server result to chart series', () => {
        const v = toStatsView(sampleStats());
        expect(v.empty).toBe(false);
        expect(v.total).toBe(12);
        expect(v.counts).toEqual({ accept: 6, edit: 4, reject: 2 });
        expect(v.byArtifactType.labels).toEqual(['mermaid-erd', HOSTILE[0]]);
        expect(v.byArtifactType.edit).toEqual([3, 1]);
        expect(v.byArtifactType.keptRate).toEqual([0.875, 0.75]);
        expect(v.daily.labels).toEqual(['2025-01-02', '2025-01-01']);
        expect(v.daily.keptRate).toEqual([0.8, 0.8571]);
        expect(v.daily.unchangedRate).toEqual([0.4, 0.57]);
        expect(v.daily.meanEditDistance).toEqual([31, 22.5]);
        expect(v.rewardHistogram.labels).toEqual(['-1 – 0', '0 – 0.50', '0.50 – 1']);
        expect(v.rewardHistogram.counts).toEqual([2, 3, 7]);
        expect(v.embeddings).toBe('off');
        const [run, failed] = v.runs;
        expect(run).toMatchObject({ id: HOSTILE[1], method: HOSTILE[2], promoted: true, summary: 'valLoss 0.50' });
        expect(run.curve.steps).toEqual([10, 20]);
        expect(run.curve.valLoss).toEqual([0.9, 0.6]);
        expect(failed).toMatchObject({
            id: '20250102-110000-abc123',
            name: 'run of 01-02 11:00',
            suffix: '…abc123',
            status: 'failed',
            finishedAt: '2025-01-02T11:00:04.250Z',
            summary: '',
        });
        expect(failed.reason).toBe(`not enough preference pairs: 2, at least 8 needed ${HOSTILE[0]}`);
        // An id of another shape keeps its text as the name (cut), with no suffix.
        expect(run).toMatchObject({ name: `run ${HOSTILE[1].slice(0, 23)}…`, suffix: '' });
    });

    it('turns missing or malformed fields into empty series, never throwing', () => {
        for (const raw of [undefined, null, 'x', 42, [], {}, { counts: 'many', daily: 'no', recentRuns: [null, 1, { id: {} }], rewardHistogram: { counts: ['a'] } }]) {
            const v = toStatsView(raw);
            expect(v.empty).toBe(true);
            expect(v.daily.labels).toEqual([]);
            expect(v.runs).toEqual([]);
            expect(v.keptRate).toBeNull();
            expect(v.unchangedRate).toBeNull();
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

    it('gives the status bar its figures: pending, kept and unchanged', () => {
        expect(statusText(sampleStats())).toEqual({ pending: 3, total: 12, keptRate: 0.8333, unchangedRate: 0.5 });
        expect(statusText({})).toEqual({ pending: 0, total: 0, keptRate: null, unchangedRate: null });
        expect(percent(0.728)).toBe('73%');
        expect(percent(null)).toBe('–');
    });

    it('reads 49 accepts with edits as kept 100% and unchanged 0%, never as "0% accepted"', () => {
        // Issue 17: a user clicked Accept 49 times, after editing each output.
        const server = { total: 49, counts: { accept: 0, edit: 49, reject: 0 }, acceptRate: 0, unchangedRate: 0, keptRate: 1 };
        const v = toStatsView(server);
        expect([v.keptRate, v.unchangedRate]).toEqual([1, 0]);
        expect(keptWording(v.keptRate, v.unchangedRate)).toBe('kept 100% · unchanged 0%');
        // A server from before keptRate: kept comes from the counts, acceptRate is "unchanged".
        const old = toStatsView({ total: 50, counts: { accept: 0, edit: 49, reject: 1 }, acceptRate: 0 });
        expect(keptWording(old.keptRate, old.unchangedRate)).toBe('kept 98% · unchanged 0%');
        expect(statusText({ counts: { accept: 1, edit: 2, reject: 1 }, acceptRate: 0.25 })).toMatchObject({ total: 4, keptRate: 0.75, unchangedRate: 0.25 });
        // Out-of-range rates are clamped, garbage is unknown.
        expect(statusText({ keptRate: 1.7, unchangedRate: 'x' })).toMatchObject({ keptRate: 1, unchangedRate: null });
    });
});
