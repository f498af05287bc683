import { describe, expect, it } from 'vitest';
import { parseRunFinished, runIdOf } from '../src/common/protocol';
import { runFinishedMessage, RunTracker } from '../src/common/runs';

describe('RunTracker', () => {
    it('binds a progress token to the run named in its title, preferring the longest id', () => {
        const runs = new RunTracker();
        runs.started('run-1');
        runs.started('run-12');
        expect(runs.runForProgress('t1', ['Training run-12 (sft)', 'step 3'])).toBe('run-12');
        expect(runs.runForProgress('t2', ['Training run-1', undefined])).toBe('run-1');
        expect(runs.runForProgress('t3', ['Training', 'loss 0.3'])).toBeUndefined();
        expect(runs.tokensOf('run-12')).toEqual(['t1']);
    });

    it('falls back to the only run in flight, and keeps the binding', () => {
        const runs = new RunTracker();
        expect(runs.runForProgress('t', ['Training'])).toBeUndefined();
        runs.started('abc');
        expect(runs.runForProgress('t', ['Training'])).toBe('abc');
        runs.started('def');
        expect(runs.runForProgress('t', ['Training def'])).toBe('abc');
    });

    it('forgets a run and its tokens when it finishes', () => {
        const runs = new RunTracker();
        runs.started('a');
        runs.started('a');
        runs.runForProgress('tok', ['a']);
        runs.finished('a');
        expect(runs.list()).toEqual([]);
        expect(runs.tokensOf('a')).toEqual([]);
    });

    it('says how a run ended', () => {
        const p = parseRunFinished({ runId: 42, status: 'succeeded', metrics: { valLoss: 0.4123, valSimilarity: 0.9, promoted: true, curve: [] } })!;
        expect(runFinishedMessage(p)).toBe('Editloop: training run 42 succeeded (valLoss 0.41, valSimilarity 0.90); promoted to the active model.');
        expect(runFinishedMessage(parseRunFinished({ runId: 'r', status: 'failed', metrics: null })!)).toBe('Editloop: training run r failed.');
        // the server's names (server/editloop/store/metrics.py); the old snake_case ones it never sends
        const named = parseRunFinished({ runId: 7, status: 'succeeded', metrics: { valValidity: 0.95, eval_loss: 0.3 } })!;
        expect(runFinishedMessage(named)).toBe('Editloop: training run 7 succeeded (valValidity 0.95).');
        expect(parseRunFinished({ status: 'x' })).toBeUndefined();
        expect(runIdOf({ runId: 'r9' })).toBe('r9');
        expect(runIdOf(null)).toBeUndefined();
    });
});
