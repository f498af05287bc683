/**
 * Short readable names for what users see: a training run is "run of 12-03 14:05 (…eb4e90)", not
 * `20261203-140501-eb4e90`; the model that wrote a generated region is named the way the server's
 * hover names it. Pure (no vscode import): the extension and the webview share it.
 */

/** `YYYYMMDD-HHMMSS-xxxxxx`, the server's run ids (training/jobs.py new_run_id). */
const RUN_ID = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-([0-9a-z]+)$/i;
/** The same, anywhere in a text (a progress title, a log line). */
const RUN_ID_IN_TEXT = /\b\d{8}-\d{6}-[0-9a-z]{4,12}\b/gi;

export interface RunName {
    /** "run of 12-03 14:05" (the run's start, the server's local time). */
    when: string;
    /** "…eb4e90": tells apart two runs started in the same minute. */
    suffix: string;
}

export function runName(id: string): RunName | undefined {
    const m = RUN_ID.exec(id.trim());
    return m ? { when: `run of ${m[2]}-${m[3]} ${m[4]}:${m[5]}`, suffix: `…${m[7]}` } : undefined;
}

/** "run of 12-03 14:05 (…eb4e90)"; an id of another shape is cut to 24 characters: "run abc". */
export function runLabel(id: string): string {
    const name = runName(id);
    if (name) {
        return `${name.when} (${name.suffix})`;
    }
    const short = id.length > 24 ? `${id.slice(0, 23)}…` : id;
    return `run ${short}`;
}

/** What `editloop.generate` says about the text it inserted. */
export interface GenerateResult {
    model?: string;
    modelVersion?: string | null;
    /** "" (the first output was used), "beam" or "base" (an invalid first output was replaced). */
    retry?: string;
}

export function parseGenerateResult(v: unknown): GenerateResult {
    const o = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
    const str = (x: unknown) => (typeof x === 'string' ? x.slice(0, 200) : undefined);
    return { model: str(o.model), modelVersion: str(o.modelVersion) ?? null, retry: str(o.retry) ?? '' };
}

/**
 * Who wrote it: "run of 12-03 14:05 (…eb4e90)" (a fine-tuned run), "the base model", "llama3 at
 * the generation endpoint", or the model's name.
 */
export function writtenBy(r: GenerateResult): string {
    const model = r.model?.trim();
    const version = r.modelVersion?.trim();
    if (version && runName(version)) {
        return runLabel(version);
    }
    if (version === 'base') {
        return model ? `the base model (${model})` : 'the base model';
    }
    if (version === 'endpoint') {
        return model ? `${model} at the generation endpoint` : 'the generation endpoint';
    }
    if (version) {
        return `${model || 'a model'} (${version.length > 40 ? `${version.slice(0, 39)}…` : version})`;
    }
    return model || 'an unknown model';
}

/** The message after Generate: who wrote the text, whether it is a retry, what to do next. */
export function generatedMessage(r: GenerateResult): string {
    let retry = '';
    if (r.retry === 'beam') {
        retry = ' on a retry with beam search (its first output was not valid)';
    } else if (r.retry === 'base') {
        retry = ' on a retry (the trained model’s output was not valid)';
    } else if (r.retry) {
        retry = ' on a retry (the first output was not valid)';
    }
    return `Editloop: written by ${writtenBy(r)}${retry}; edit it, then Accept or Reject.`;
}

/**
 * A server progress notification as shown: the title names the run readably ("Editloop: training
 * run of 12-03 14:05 (…eb4e90)") and the message does not repeat the run id ("run <id> starting",
 * "<id>: step 3/10" become "starting", "step 3/10").
 */
export function progressText(title: string, message: string | undefined): { title: string; message: string | undefined } {
    const shown = title.replace(RUN_ID_IN_TEXT, (id) => runLabel(id));
    if (message === undefined) {
        return { title: shown, message };
    }
    const cleaned = message
        .replace(new RegExp(`(?:\\brun\\s+)?${RUN_ID_IN_TEXT.source}\\s*:?\\s*`, 'gi'), '')
        .replace(/\s{2,}/g, ' ')
        .trim();
    return { title: shown, message: cleaned || undefined };
}
