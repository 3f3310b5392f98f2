package org.flowfiji.cli;

import picocli.CommandLine.Option;

/** Output options shared by every subcommand that reports figures. */
final class OutputOptions {

    @Option(names = "--json", description = "Print a JSON summary as the last line of stdout.")
    boolean json;

    @Option(names = "--quiet", description = "No progress output.")
    boolean quiet;
}
