/**
 * Where Generate (and inline completions) send prompts and document text: the local model, or the
 * OpenAI-compatible endpoint on this machine or on another one. Pure; shown in the status tooltip.
 */
import type { Settings } from './settings';

export type GenerationTarget =
    | { kind: 'local-model' }
    | {
          kind: 'endpoint';
          endpoint: string;
          host: string;
          onThisMachine: boolean;
          encrypted: boolean;
          model: string;
          /** What a request carries besides the prompt. */
          inline: boolean;
          retrieval: number;
      }
    | { kind: 'invalid'; endpoint: string };

/** True for host names that always mean this machine: `localhost`, 127.0.0.0/8, ::1 (also IPv4-mapped). */
export function isLoopbackHost(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    return (
        host === 'localhost' ||
        /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
        host === '[::1]' ||
        /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host)
    );
}

/**
 * The backend the server will use, decided as the server's Generator.backend does
 * (server/editloop/generation/service.py): `auto` is the endpoint when a model name is set, else the local model
 * (`local` and `llamacpp` are both the local model: transformers or llama.cpp).
 */
export function generationTarget(
    settings: Pick<Settings, 'generation.backend' | 'generation.endpoint' | 'generation.model' | 'generation.inline' | 'generation.retrieval'>,
): GenerationTarget {
    const backend = settings['generation.backend'];
    const model = settings['generation.model'];
    if (backend === 'local' || backend === 'llamacpp' || (backend === 'auto' && !model)) {
        return { kind: 'local-model' };
    }
    const endpoint = settings['generation.endpoint'];
    let url: URL;
    try {
        url = new URL(endpoint);
    } catch {
        return { kind: 'invalid', endpoint };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return { kind: 'invalid', endpoint };
    }
    return {
        kind: 'endpoint',
        endpoint,
        host: url.host,
        onThisMachine: isLoopbackHost(url.hostname),
        encrypted: url.protocol === 'https:',
        model,
        inline: settings['generation.inline'],
        retrieval: settings['generation.retrieval'],
    };
}

/** One line for a tooltip: where generation runs and whether text leaves this machine. */
export function describeGeneration(target: GenerationTarget): string {
    switch (target.kind) {
        case 'local-model':
            return 'Generation: the local model on this machine; no text is sent anywhere.';
        case 'invalid':
            return `Generation: editloop.generation.endpoint ${JSON.stringify(target.endpoint)} is not an http(s) URL.`;
        case 'endpoint': {
            const where = `${target.endpoint} (model ${target.model || 'not set'})`;
            if (target.onThisMachine) {
                return `Generation: ${where}, on this machine; no text leaves it.`;
            }
            const sent = ['prompts'];
            if (target.inline) {
                sent.push('the text before the cursor (inline completions)');
            }
            if (target.retrieval > 0) {
                sent.push(`up to ${target.retrieval} past corrections`);
            }
            const list = sent.length > 1 ? `${sent.slice(0, -1).join(', ')} and ${sent[sent.length - 1]}` : sent[0];
            const plain = target.encrypted ? '' : ', unencrypted (http)';
            return `Generation: ${where}: ${list} are sent to ${target.host}, another machine${plain}.`;
        }
    }
}
