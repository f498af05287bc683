/** A stats result shaped like the server's, with hostile stored strings in every text field. */
export const HOSTILE = ['<script>alert(1)</script>', '</style><img src=x onerror=alert(2)>', 'javascript:alert(3)'];

export function sampleStats(): Record<string, unknown> {
    return {
        total: 12,
        counts: { accept: 6, edit: 4, reject: 2 },
        byArtifactType: {
            'mermaid-erd': { accept: 4, edit: 3, reject: 1, total: 8, acceptRate: 0.5, keptRate: 0.875 },
            [HOSTILE[0]]: { accept: 2, edit: 1, reject: 1, total: 4, acceptRate: 0.5, keptRate: 0.75 },
        },
        acceptRate: 0.5,
        unchangedRate: 0.5,
        keptRate: 0.8333,
        meanSimilarity: 0.83,
        meanReward: 0.41,
        rewardHistogram: { edges: [-1, 0, 0.5, 1], counts: [2, 3, 7] },
        daily: [
            { date: '2025-01-02', events: 5, accept: 2, edit: 2, reject: 1, acceptRate: 0.4, keptRate: 0.8, meanSimilarity: 0.8, meanEditDistance: 31 },
            { date: '2025-01-01', events: 7, accept: 4, edit: 2, reject: 1, acceptRate: 0.57, keptRate: 0.8571, meanSimilarity: 0.85, meanEditDistance: 22.5 },
        ],
        pending: 3,
        recentRuns: [
            {
                id: HOSTILE[1],
                method: HOSTILE[2],
                status: 'succeeded',
                promoted: true,
                metrics: { valLoss: 0.5, curve: [{ step: 20, trainLoss: 1, valLoss: 0.6, valSimilarity: 0.7 }, { step: 10, trainLoss: 2, valLoss: 0.9, valSimilarity: 0.5 }] },
                startedAt: '2025-01-02T10:00:00Z',
                finishedAt: '2025-01-02T10:05:00Z',
            },
            {
                id: '20250102-110000-abc123',
                method: 'dpo',
                status: 'failed',
                promoted: false,
                metrics: {},
                reason: `not enough preference pairs: 2, at least 8 needed ${HOSTILE[0]}`,
                startedAt: '2025-01-02T11:00:00.000Z',
                finishedAt: '2025-01-02T11:00:04.250Z',
            },
        ],
        embeddings: 'off',
    };
}
