/** A trailing-edge debounce with cancel; `schedule()` restarts the wait. */
export interface Debounced {
    schedule(): void;
    cancel(): void;
}

export function debounce(fn: () => void, waitMs: number): Debounced {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return {
        schedule() {
            if (timer !== undefined) {
                clearTimeout(timer);
            }
            timer = setTimeout(() => {
                timer = undefined;
                fn();
            }, waitMs);
        },
        cancel() {
            if (timer !== undefined) {
                clearTimeout(timer);
                timer = undefined;
            }
        },
    };
}
