/**
 * The language client: vscode-languageclient's LanguageClient with two built-in features replaced
 * (why: featureFilter.ts). `ServerCommandsFeature` records the commands the server advertises
 * without registering them as VS Code commands; `ServerProgressFeature` hands server-created
 * progress tokens to the extension's progress UI.
 */
import { randomUUID } from 'node:crypto';
import {
    ClientCapabilities,
    DynamicFeature,
    ExecuteCommandRegistrationOptions,
    ExecuteCommandRequest,
    FeatureState,
    LanguageClient,
    LanguageClientOptions,
    ProgressToken,
    RegistrationData,
    ServerCapabilities,
    ServerOptions,
    StaticFeature,
    WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';
import { isReplacedBuiltin } from './featureFilter';

export class EditloopClient extends LanguageClient {
    constructor(serverOptions: ServerOptions, clientOptions: LanguageClientOptions) {
        super('editloop', 'Editloop', serverOptions, clientOptions);
    }

    // Called by the base constructor for every built-in feature, and by us for our own.
    override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
        if (!(feature instanceof ServerCommandsFeature || feature instanceof ServerProgressFeature) && isReplacedBuiltin(feature)) {
            return;
        }
        super.registerFeature(feature);
    }
}

/** Keeps the set of `workspace/executeCommand` commands the server advertises (static or dynamic). */
export class ServerCommandsFeature implements DynamicFeature<ExecuteCommandRegistrationOptions> {
    private readonly registrations = new Map<string, string[]>();

    get registrationType() {
        return ExecuteCommandRequest.type;
    }

    getState(): FeatureState {
        return { kind: 'workspace', id: this.registrationType.method, registrations: this.registrations.size > 0 };
    }

    fillClientCapabilities(capabilities: ClientCapabilities): void {
        capabilities.workspace ??= {};
        capabilities.workspace.executeCommand = { dynamicRegistration: true };
    }

    initialize(capabilities: ServerCapabilities): void {
        if (capabilities.executeCommandProvider) {
            this.register({ id: randomUUID(), registerOptions: capabilities.executeCommandProvider });
        }
    }

    register(data: RegistrationData<ExecuteCommandRegistrationOptions>): void {
        this.registrations.set(data.id, [...(data.registerOptions.commands ?? [])]);
    }

    unregister(id: string): void {
        this.registrations.delete(id);
    }

    clear(): void {
        this.registrations.clear();
    }

    /** Every advertised command; empty before the server has initialized. */
    commands(): Set<string> {
        return new Set([...this.registrations.values()].flat());
    }
}

/** Answers `window/workDoneProgress/create` and passes the token on. */
export class ServerProgressFeature implements StaticFeature {
    private active = false;

    constructor(
        private readonly client: LanguageClient,
        private readonly onCreate: (token: ProgressToken) => void,
        private readonly onClear: () => void,
    ) {}

    getState(): FeatureState {
        return { kind: 'window', id: WorkDoneProgressCreateRequest.method, registrations: this.active };
    }

    fillClientCapabilities(capabilities: ClientCapabilities): void {
        capabilities.window ??= {};
        capabilities.window.workDoneProgress = true;
    }

    initialize(): void {
        this.active = true;
        this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => this.onCreate(params.token));
    }

    clear(): void {
        this.active = false;
        this.onClear();
    }
}
