package org.flowfiji.cli;

import org.flowfiji.model.Engines;
import picocli.CommandLine.Option;

/** Engine options shared by the subcommands that run a model. */
final class EngineOptions {

    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu, gpu or gpu:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads of the engine (0 = one per core).")
    int threads;

    /** Applies the thread setting; returns the device name. */
    String apply() {
        if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0, got " + threads);
        Engines.setThreads(threads);
        return device;
    }
}
